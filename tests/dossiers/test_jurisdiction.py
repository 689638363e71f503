"""Officers of two wards: each sees and acts only on its own dossiers; citizens only theirs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.core.actors import Role
from tests.dossiers.conftest import UNIT_B, WARD_B, pin_of, submission

API = "/api/v1/dossiers"


def test_another_wards_officers_and_citizens_get_404_everywhere(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai, lan = citizen(), citizen(name="Lê Thị Lan")
    own_desk = officer(Role.INTAKE_OFFICER)
    code = client.post(API, json=submission(pin_of(session, mai)), headers=mai.headers).json()[
        "code"
    ]
    strangers = [
        officer(role, WARD_B, UNIT_B) for role in (Role.INTAKE_OFFICER, Role.HANDLER, Role.APPROVER)
    ]
    for who in [*strangers, lan]:
        assert client.get(f"{API}/{code}", headers=who.headers).status_code == 404
        assert client.get(f"{API}/{code}/history", headers=who.headers).status_code == 404
        for action in ("accept", "refuse", "withdraw", "assign", "approve", "stop"):
            r = client.post(f"{API}/{code}/actions/{action}", headers=who.headers)
            assert r.status_code == 404, (action, r.text)
        listed = client.get(API, headers=who.headers).json()
        assert code not in [d["code"] for d in listed["items"]]
    # An admin holds no role in the ward: default deny applies to them too.
    admin = officer(Role.ADMIN, "000.00.00.H29", None)
    assert client.get(f"{API}/{code}", headers=admin.headers).status_code == 404
    # The ward's own desk sees it, and so does the owner.
    assert client.get(f"{API}/{code}", headers=own_desk.headers).status_code == 200
    assert client.get(f"{API}/{code}", headers=mai.headers).status_code == 200
    assert [d["code"] for d in client.get(API, headers=mai.headers).json()["items"]] == [code]
    # Nobody anonymous.
    assert client.get(f"{API}/{code}").status_code == 401
    assert client.get(API).status_code == 401
    assert client.post(API, json=submission(pin_of(session, mai))).status_code == 401


def test_routing_to_the_competent_ward_whatever_desk_received_it(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    # A walk-in at ward A's desk for a birth to be registered in ward B.
    desk_a = officer(Role.INTAKE_OFFICER)
    desk_b = officer(Role.INTAKE_OFFICER, WARD_B, UNIT_B)
    body = submission("079301004455", channel="counter", unit_code=UNIT_B)
    r = client.post(API, json=body, headers=desk_a.headers)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["receiving_agency"]["code"] == "000.67.40.H29"
    assert d["competent_agency"]["code"] == WARD_B
    assert d["code"].startswith("000.67.40.H29-")  # the code is the receiving desk's
    # Both the receiving desk and the competent ward see it.
    assert client.get(f"{API}/{d['code']}", headers=desk_b.headers).status_code == 200
    r = client.post(f"{API}/{d['code']}/actions/accept", headers=desk_a.headers)
    assert r.status_code == 200, r.text
    accept = client.get(f"{API}/{d['code']}/history", headers=desk_b.headers).json()[1]
    # A paper dossier goes to the competent agency the same day (or next morning).
    assert (accept["from_agency_code"], accept["to_agency_code"]) == ("000.67.40.H29", WARD_B)
    assert accept["due_at"] is not None


def test_officer_reads_of_a_dossier_are_in_the_audit_log(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import select

    from cityhall.core.audit import AuditEvent

    mai = citizen()
    pin = pin_of(session, mai)
    desk = officer(Role.INTAKE_OFFICER)
    code = client.post(API, json=submission(pin), headers=mai.headers).json()["code"]
    client.get(f"{API}/{code}", headers=desk.headers)
    session.expire_all()
    reads = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "dossier.read", AuditEvent.object_id == code)
    ).all()
    assert len(reads) == 1
    assert reads[0].subject_id == pin
    assert reads[0].actor_id == str(desk.id)
    assert reads[0].purpose
