"""The whole lifecycle through the API, as a citizen and the officers of a ward use it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core.actors import Role
from cityhall.core.notify.models import Notification
from cityhall.dossiers.models import DossierPause
from tests.dossiers.conftest import WARD_A, pin_of, submission

API = "/api/v1/dossiers"


def _act(client: TestClient, code: str, action: str, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/{code}/actions/{action}", json=body or None, headers=headers)


def test_birth_registration_from_submission_to_returned_result(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    desk, head, handler = (
        officer(Role.INTAKE_OFFICER),
        officer(Role.APPROVER),
        officer(Role.HANDLER),
    )

    r = client.post(API, json=submission(pin_of(session, mai)), headers=mai.headers)
    assert r.status_code == 201, r.text
    d = r.json()
    code = d["code"]
    assert re.fullmatch(rf"{re.escape(WARD_A)}-\d{{6}}-\d{{4,}}", code)
    assert (d["status"], d["national_status"]) == ("submitted", 1)
    assert d["competent_agency"]["code"] == WARD_A
    assert re.search(r"[+-]\d\d:\d\d$|Z$", d["due_at"])  # ISO-8601 with offset
    assert d["due_at"] > d["received_at"]

    r = _act(client, code, "accept", desk.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["national_status"]) == ("received", 2)
    assert r.json()["current_step"]["code"] == "appraisal"

    r = _act(client, code, "assign", head.headers, handler_id=handler.id)
    assert (r.json()["status"], r.json()["national_status"]) == ("in_progress", 4), r.text
    assert r.json()["handler_id"] == handler.id

    r = _act(
        client,
        code,
        "request-supplement",
        handler.headers,
        missing=["GIAY_CHUNG_SINH", "Bản sao giấy chứng nhận kết hôn"],
        note="Ảnh mờ",
    )
    assert (r.json()["status"], r.json()["national_status"]) == ("supplement_requested", 5), r.text
    pauses = session.scalars(select(DossierPause)).all()
    assert [(p.reason, p.mode, p.ended_at) for p in pauses] == [("supplement", "restart", None)]

    # The handler cannot move on while the citizen has the dossier.
    r = _act(client, code, "forward", handler.headers)
    assert r.status_code == 409
    assert r.json()["state"] == "supplement_requested"
    assert r.json()["allowed_actions"] == []  # nothing for the handler until supplemented

    r = _act(client, code, "supplement", mai.headers, note="Đã chụp lại giấy chứng sinh")
    assert (r.json()["status"], r.json()["national_status"]) == ("in_progress", 4), r.text
    session.expire_all()
    assert session.scalars(select(DossierPause)).one().ended_at is not None

    r = _act(client, code, "forward", handler.headers, note="Đủ điều kiện")
    assert r.json()["current_step"]["code"] == "decision", r.text
    r = _act(client, code, "approve", handler.headers)
    assert r.status_code == 403  # the decision is the head's
    r = _act(client, code, "approve", head.headers, note="Đồng ý cấp Giấy khai sinh")
    assert (r.json()["status"], r.json()["national_status"], r.json()["outcome"]) == (
        "resolved",
        9,
        "approved",
    ), r.text
    r = _act(client, code, "return-result", desk.headers)
    assert (r.json()["status"], r.json()["national_status"]) == ("returned", 10), r.text

    history = client.get(f"{API}/{code}/history", headers=mai.headers).json()
    assert [h["action"] for h in history] == [
        "submit",
        "accept",
        "assign",
        "request-supplement",
        "supplement",
        "forward",
        "approve",
        "return-result",
    ]
    handovers = [h for h in history if h["action"] in ("accept", "forward", "approve")]
    assert all(h["timeliness"] in ("early", "on_time", "late") for h in handovers)
    assert all(h["from_unit"] and h["to_unit"] for h in handovers)

    mails = session.scalars(
        select(Notification).where(Notification.channel == "email").order_by(Notification.id)
    ).all()
    assert len(mails) == len(history)  # one e-mail per status change
    assert all(m.recipient == "mai.nguyen@example.vn" for m in mails)
    assert "Ủy ban nhân dân phường Sài Gòn" in mails[0].body
    assert "Ngày hẹn trả kết quả" in mails[1].body
    assert "Bản sao giấy chứng nhận kết hôn" in mails[3].body  # what is missing, listed
    assert "Giấy chứng sinh do cơ sở y tế cấp" in mails[3].body
    # SMS to the phone and a push message to the citizen's app, through the channel interface.
    sms = session.execute(
        select(Notification.recipient, Notification.body).where(Notification.channel == "sms")
    ).all()
    assert len(sms) == len(history)
    assert all(r == "0909123456" for r, _ in sms)
    assert "Đã trả kết quả" in sms[-1][1]
    pushes = session.scalars(
        select(Notification.recipient).where(Notification.channel == "push")
    ).all()
    assert pushes == [f"citizen:{mai.id}"] * len(history)


def test_public_lookup_shows_progress_without_personal_data(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    pin = pin_of(session, mai)
    code = client.post(API, json=submission(pin), headers=mai.headers).json()["code"]
    _act(client, code, "accept", officer(Role.INTAKE_OFFICER).headers)
    r = client.get(f"/api/v1/lookup/{code}")
    assert r.status_code == 200
    body = r.json()
    assert body["procedure_name"] == "Đăng ký khai sinh"
    assert body["national_status"] == 2
    assert body["steps_done"] == 1
    text = r.text
    for private in (pin, "Nguyễn Thị Mai", "0909123456", "mai.nguyen", "Lê Lợi", "Khang"):
        assert private not in text
    assert client.get("/api/v1/lookup/000.00.01.H29-260101-9999").status_code == 404


def test_an_impossible_action_is_a_409_naming_state_and_allowed_actions(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    desk = officer(Role.INTAKE_OFFICER)
    code = client.post(API, json=submission(pin_of(session, mai)), headers=mai.headers).json()[
        "code"
    ]
    r = _act(client, code, "return-result", desk.headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["state"] == "submitted"
    assert set(body["allowed_actions"]) == {"accept", "request-supplement", "refuse", "withdraw"}
    assert "Mới nộp" in body["detail"]
    assert _act(client, code, "fly", desk.headers).status_code == 404


def test_intake_ends_in_supplement_request_listing_everything_or_refusal_with_reasons(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    desk = officer(Role.INTAKE_OFFICER)
    first = client.post(API, json=submission(pin_of(session, mai)), headers=mai.headers).json()
    r = _act(client, first["code"], "request-supplement", desk.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "missing"
    r = _act(client, first["code"], "request-supplement", desk.headers, missing=["GIAY_CHUNG_SINH"])
    assert (r.json()["status"], r.json()["national_status"]) == ("intake_supplement", 5)
    # Supplemented: back to intake with the clock started afresh.
    r = _act(client, first["code"], "supplement", mai.headers, note="Bổ sung giấy chứng sinh")
    assert r.json()["status"] == "submitted"
    assert r.json()["received_at"] > first["received_at"]

    second = client.post(API, json=submission(pin_of(session, mai)), headers=mai.headers).json()
    r = _act(client, second["code"], "refuse", desk.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reasons"
    r = _act(client, second["code"], "refuse", desk.headers, reasons=["Không thuộc thẩm quyền"])
    assert (r.json()["status"], r.json()["national_status"]) == ("not_accepted", 3)
    assert r.json()["allowed_actions"] == []


def test_withdrawal_before_receipt_stops_at_once_and_after_receipt_needs_a_stop(
    client: TestClient,
    session: Session,
    officer,
    citizen,  # type: ignore[no-untyped-def]
) -> None:
    mai = citizen()
    desk = officer(Role.INTAKE_OFFICER)
    pin = pin_of(session, mai)
    early = client.post(API, json=submission(pin), headers=mai.headers).json()["code"]
    r = _act(client, early, "withdraw", mai.headers, note="Nộp nhầm")
    assert (r.json()["status"], r.json()["national_status"]) == ("stopped", 8)

    late = client.post(API, json=submission(pin), headers=mai.headers).json()["code"]
    _act(client, late, "accept", desk.headers)
    r = _act(client, late, "withdraw", mai.headers, note="Không cần nữa")
    assert (r.json()["status"], r.json()["national_status"]) == ("withdrawal_requested", 7)
    r = _act(client, late, "cancel-withdrawal", mai.headers)
    assert r.json()["status"] == "received"
    _act(client, late, "withdraw", mai.headers)
    r = _act(client, late, "stop", mai.headers)
    assert r.status_code == 403  # the stop notice is the agency's
    r = _act(client, late, "stop", desk.headers, note="Thông báo dừng (Mẫu 05)")
    assert (r.json()["status"], r.json()["national_status"]) == ("stopped", 8)
