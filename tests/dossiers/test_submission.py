"""Submitting: validation naming the field, idempotent retries, codes under concurrency."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core.actors import Role
from cityhall.dossiers.models import Dossier
from tests.dossiers.conftest import birth_form, pin_of, submission

API = "/api/v1/dossiers"


def _fields(r) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in r.json()["errors"]}


def test_form_is_validated_against_the_procedures_schema_errors_name_the_field(
    client: TestClient,
    session: Session,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    body = submission(pin_of(session, mai))
    body["form"] = birth_form(child_sex="Không rõ", child_birth_date="20/11/2026")
    del body["form"]["mother_full_name"]
    r = client.post(API, json=body, headers=mai.headers)
    assert r.status_code == 422
    assert _fields(r) == {"form.child_sex", "form.child_birth_date", "form.mother_full_name"}
    messages = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert messages["form.mother_full_name"] == "Chưa nhập Họ, chữ đệm, tên người mẹ."
    assert "Giới tính" in messages["form.child_sex"]
    assert client.get(API, headers=mai.headers).json()["total"] == 0  # nothing was created


def test_applicant_unit_procedure_and_documents_are_checked(
    client: TestClient,
    session: Session,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    pin = pin_of(session, mai)
    r = client.post(API, json=submission("079000000001"), headers=mai.headers)
    assert r.status_code == 422
    assert "applicant.id_number" in _fields(r)
    r = client.post(API, json=submission(pin, unit="99999"), headers=mai.headers)
    assert r.status_code == 422
    assert _fields(r) == {"applicant.address.unit_code"}
    r = client.post(
        API, json={**submission(pin), "procedure_code": "9.999999"}, headers=mai.headers
    )
    assert r.status_code == 422
    assert _fields(r) == {"procedure_code"}
    docs = [{"code": "GIAY_CHUNG_SINH", "sha256": "0" * 64}, {"code": "NOPE", "sha256": "1" * 64}]
    r = client.post(API, json={**submission(pin), "documents": docs}, headers=mai.headers)
    assert r.status_code == 422
    assert _fields(r) == {"documents.0.sha256", "documents.1.code"}
    r = client.post(API, json={**submission(pin), "channel": "counter"}, headers=mai.headers)
    assert r.status_code == 403  # citizens submit online; the desk enters counter dossiers
    r = client.post(API, json={**submission(pin), "extra": 1}, headers=mai.headers)
    assert r.status_code == 422


def test_counter_intake_with_scanned_parts(
    client: TestClient,
    session: Session,
    officer,  # type: ignore[no-untyped-def]
) -> None:
    desk = officer(Role.INTAKE_OFFICER)
    scan = b"%PDF-1.4\n" + b"giay chung sinh " * 200 + b"\n%%EOF\n"
    up = client.post(
        "/api/v1/blobs",
        files={"file": ("chung-sinh.pdf", scan, "application/pdf")},
        headers=desk.headers,
    )
    assert up.status_code in (200, 201), up.text
    body = submission(
        "079190007788",
        channel="counter",
        documents=[{"code": "GIAY_CHUNG_SINH", "sha256": up.json()["sha256"], "pages": 2}],
    )
    r = client.post(API, json=body, headers=desk.headers)
    assert r.status_code == 201, r.text
    doc = r.json()["documents"][0]
    assert (doc["code"], doc["source"], doc["pages"]) == ("GIAY_CHUNG_SINH", "scan", 2)
    assert doc["sha256"] == up.json()["sha256"]


def test_a_retried_submission_with_the_same_key_returns_the_same_dossier(
    client: TestClient,
    session: Session,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    body = submission(pin_of(session, mai))
    headers = {**mai.headers, "Idempotency-Key": "3f1c9a7e-retry-1"}
    first = client.post(API, json=body, headers=headers)
    again = client.post(API, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["code"] == again.json()["code"]
    assert client.get(API, headers=mai.headers).json()["total"] == 1
    other = client.post(
        API, json={**body, "form": birth_form(child_full_name="Khác")}, headers=headers
    )
    assert other.status_code == 409
    fresh = client.post(API, json=body, headers={**mai.headers, "Idempotency-Key": "another"})
    assert fresh.json()["code"] != first.json()["code"]


def test_codes_are_sequential_per_desk_and_unique_under_concurrent_submissions(
    fresh_factory: sessionmaker[Session],
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from cityhall.core.actors import system_admin
    from cityhall.dossiers.schemas import DossierSubmit
    from cityhall.dossiers.service import submit_dossier
    from cityhall.identity import service as identity

    with fresh_factory() as s:
        people = [
            identity.ensure_citizen(s, actor=system_admin(), pin=f"0792000{i:05d}", full_name="Dân")
            for i in range(16)
        ]
        actors = [identity.citizen_actor(p) for p in people]
        s.commit()
    codes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for actor in actors[index * 2 : index * 2 + 2]:
                with fresh_factory() as s:
                    pin = people[actors.index(actor)].pin
                    data = DossierSubmit.model_validate(submission(pin))
                    codes.append(
                        submit_dossier(s, actor=actor, data=data, settings=settings).dossier.code
                    )
                    s.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(codes) == len(set(codes)) == 16
    seqs = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert seqs == list(range(1, 17))
    assert all(re.fullmatch(r"000\.67\.40\.H29-\d{6}-\d{4}", c) for c in codes)
    with fresh_factory() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 16
