"""The law's clock: supplementation (restart or pause), the apology, inter-agency deadlines,
fees; and the deadline arithmetic on a fixed calendar."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.catalog import queries as catalog
from cityhall.core.actors import Role
from cityhall.core.calendar.rules import TimeUnit, WorkingCalendar
from cityhall.dossiers import clock
from cityhall.dossiers.demo import sample_form
from tests.dossiers.conftest import pin_of, submission

API = "/api/v1/dossiers"
MARITAL = "1.004873"  # xác nhận tình trạng hôn nhân: 3 working days, clock pauses
PERMIT = "1.014199"  # work permit, Sở Nội vụ, inter-agency with the city police
COPY = "2.000815"  # chứng thực bản sao từ bản chính: half a working day
HOME_AFFAIRS, POLICE = "000.00.04.H29", "000.00.17.H29"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _body(session: Session, pin: str, code: str) -> dict[str, object]:
    schema = catalog.get_procedure(session, code).form_schema
    return submission(pin, procedure_code=code, form=sample_form(schema, random.Random(7)))


def _act(client: TestClient, code: str, action: str, who, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/{code}/actions/{action}", json=body or None, headers=who.headers)


def _received(client, session, officer, citizen, procedure=MARITAL):  # type: ignore[no-untyped-def]
    mai = citizen()
    r = client.post(API, json=_body(session, pin_of(session, mai), procedure), headers=mai.headers)
    assert r.status_code == 201, r.text
    return mai, r.json()


def test_pause_mode_keeps_the_clock_and_records_the_pause(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk, head, handler = (
        officer(Role.INTAKE_OFFICER),
        officer(Role.APPROVER),
        officer(Role.HANDLER),
    )
    mai, d = _received(client, session, officer, citizen)
    code = d["code"]
    _act(client, code, "accept", desk)
    _act(client, code, "assign", head, handler_id=handler.id)
    _act(client, code, "request-supplement", handler, missing=["Giấy tờ chứng minh nơi cư trú"])
    r = _act(client, code, "supplement", mai, note="Đã bổ sung")
    after = r.json()
    assert after["received_at"] == d["received_at"]  # not restarted
    assert datetime.fromisoformat(after["due_at"]) >= datetime.fromisoformat(
        d["due_at"]
    )  # moved by the paused office time
    (pause,) = after["pauses"]
    assert (pause["reason"], pause["mode"]) == ("supplement", "pause")
    assert pause["ended_at"] is not None
    assert pause["due_after"] == after["due_at"]


def test_apology_once_with_a_later_date_at_least_a_working_day_ahead(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk, head = officer(Role.INTAKE_OFFICER), officer(Role.APPROVER)
    _, d = _received(client, session, officer, citizen)
    code = d["code"]
    _act(client, code, "accept", desk)
    due = datetime.fromisoformat(d["due_at"])
    r = _act(
        client,
        code,
        "apologize",
        head,
        note="Chờ xác minh",
        new_due_at=(due - timedelta(hours=1)).isoformat(),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "new_due_at"
    assert (
        _act(
            client, code, "apologize", head, new_due_at=(due + timedelta(days=2)).isoformat()
        ).status_code
        == 422
    )
    new_date = (
        (due + timedelta(days=3)).astimezone(VN).replace(hour=16, minute=0, second=0, microsecond=0)
    )
    r = _act(
        client,
        code,
        "apologize",
        head,
        note="Chờ xác minh tại nơi cư trú trước",
        new_due_at=new_date.isoformat(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert datetime.fromisoformat(body["due_at"]) == new_date
    assert datetime.fromisoformat(body["original_due_at"]) == due
    again = _act(
        client,
        code,
        "apologize",
        head,
        note="Lần nữa",
        new_due_at=(new_date + timedelta(days=2)).isoformat(),
    )
    assert again.status_code == 409
    assert "một lần" in again.json()["detail"]


def test_apology_too_close_to_the_deadline_is_refused(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk, head = officer(Role.INTAKE_OFFICER), officer(Role.APPROVER)
    body = {**_body(session, "079188001122", COPY), "channel": "counter"}
    r = client.post(API, json=body, headers=desk.headers)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    _act(client, code, "accept", desk)  # half a working day in all
    r = _act(client, code, "apologize", head, note="Chậm", new_due_at="2030-01-02T16:00:00+07:00")
    assert r.status_code == 409
    assert "ít nhất 01 ngày làm việc" in r.json()["detail"]


def test_inter_agency_dossier_waits_for_every_partner(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk = officer(Role.INTAKE_OFFICER, HOME_AFFAIRS, None)
    head = officer(Role.APPROVER, HOME_AFFAIRS, None)
    handler = officer(Role.HANDLER, HOME_AFFAIRS, None)
    police = officer(Role.HANDLER, POLICE, None)
    _, d = _received(client, session, officer, citizen, PERMIT)
    code = d["code"]
    assert d["competent_agency"]["code"] == HOME_AFFAIRS
    assert client.get(f"{API}/{code}", headers=police.headers).status_code == 404  # not yet
    _act(client, code, "accept", desk)
    _act(client, code, "assign", head, handler_id=handler.id)
    r = _act(client, code, "transfer", handler, note="Đề nghị xác minh nhân thân")
    assert r.status_code == 200, r.text
    (task,) = r.json()["tasks"]
    assert task["agency"]["code"] == POLICE
    assert datetime.fromisoformat(task["due_at"]) < datetime.fromisoformat(
        r.json()["due_at"]
    )  # its share of the limit
    assert _act(client, code, "transfer", handler).status_code == 409  # sent once, to all
    # The partner now sees it in its inbox and answers its part.
    inbox = client.get(API, headers=police.headers).json()
    assert code in [i["code"] for i in inbox["items"]]
    while r.json()["current_step"]["role"] != "approver":
        r = _act(client, code, "forward", handler)
        if r.status_code == 409:
            assert r.json()["waiting_for"] == [POLICE]
            break
    assert _act(client, code, "answer", police).status_code == 422  # the answer is required
    r = _act(client, code, "answer", police, note="Không có thông tin tiền án, tiền sự")
    assert r.json()["tasks"][0]["answered_at"] is not None, r.text
    assert r.json()["tasks"][0]["timeliness"] in ("early", "on_time")
    while r.json()["current_step"]["role"] != "approver":
        r = _act(client, code, "forward", handler)
        assert r.status_code == 200, r.text
    r = _act(client, code, "approve", head, note="Cấp giấy phép lao động")
    assert r.json()["status"] == "resolved", r.text


def test_payment_request_and_confirmation(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk, head, handler = (
        officer(Role.INTAKE_OFFICER),
        officer(Role.APPROVER),
        officer(Role.HANDLER),
    )
    _, d = _received(client, session, officer, citizen)
    code = d["code"]
    _act(client, code, "accept", desk)
    _act(client, code, "assign", head, handler_id=handler.id)
    r = _act(client, code, "request-payment", handler, amount=3000)
    assert (r.json()["status"], r.json()["national_status"], r.json()["fee_amount"]) == (
        "payment_requested",
        6,
        3000,
    )
    r = _act(client, code, "pay", desk, note="Đã thu tại quầy, biên lai 0001234")
    assert r.json()["status"] == "in_progress"
    assert [p["reason"] for p in r.json()["pauses"]] == ["payment"]


def test_assignment_needs_a_handler_of_the_competent_agency(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    desk, head = officer(Role.INTAKE_OFFICER), officer(Role.APPROVER)
    foreign = officer(Role.HANDLER, HOME_AFFAIRS, None)
    _, d = _received(client, session, officer, citizen)
    _act(client, d["code"], "accept", desk)
    r = _act(client, d["code"], "assign", head, handler_id=foreign.id)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "handler_id"


# --- the arithmetic, on a fixed calendar -----------------------------------------------------

CAL = WorkingCalendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def test_step_deadlines_split_the_limit_by_share() -> None:
    from cityhall.catalog.schemas import Step

    steps = [
        Step(code="intake", name="a", role=Role.INTAKE_OFFICER, unit="u", share=Decimal("0.25")),
        Step(code="appraisal", name="b", role=Role.HANDLER, unit="u", share=Decimal("0.5")),
        Step(code="decision", name="c", role=Role.APPROVER, unit="u", share=Decimal("0.25")),
    ]
    limit = clock.Limit(Decimal(4), TimeUnit.WORKING_DAYS)
    start = at("2026-03-09T08:00")  # a Monday
    assert clock.step_due(CAL, start, limit, steps, 0) == at("2026-03-10T08:00")
    assert clock.step_due(CAL, start, limit, steps, 1) == at("2026-03-12T08:00")
    assert clock.step_due(CAL, start, limit, steps, 2) == at("2026-03-13T08:00")
    assert clock.due(CAL, start, limit) == at("2026-03-13T08:00")


def test_timeliness_and_paper_handover() -> None:
    due = at("2026-03-12T17:00")
    assert clock.timeliness(CAL, at("2026-03-11T10:00"), due) == "early"
    assert clock.timeliness(CAL, at("2026-03-12T16:59"), due) == "on_time"
    assert clock.timeliness(CAL, at("2026-03-12T17:01"), due) == "late"
    assert clock.paper_handover_due(CAL, at("2026-03-12T14:59")) == at("2026-03-12T17:00")
    assert clock.paper_handover_due(CAL, at("2026-03-13T15:30")) == at("2026-03-16T11:30")


def test_a_paused_clock_moves_the_deadline_by_office_time() -> None:
    deadline = at("2026-03-13T10:00")  # Friday
    paused = CAL.working_time_between(at("2026-03-10T16:00"), at("2026-03-11T09:30"))
    assert paused == timedelta(hours=3)  # 16:00-17:00 and 07:30-09:30
    assert clock.extend(CAL, deadline, paused) == at("2026-03-13T14:30")
