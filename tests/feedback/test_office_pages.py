"""Staff pages: the inbox, a report with its actions (inline errors, CSRF), the dispatch and
moderation queues, the hotline form; default deny."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Role
from tests.feedback.conftest import WARD_A, WARD_B, report

CITY = "000.00.00.H29"


def login(client: TestClient, make_official, role: Role, agency: str) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official(role=role, agency_code=agency)
    page = client.get("/dang-nhap")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(
        "/dang-nhap",
        data={"username": official.username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_unit_inbox_and_a_report_with_inline_errors(
    client: TestClient, make_official, session: Session, settings: Settings, citizen, file_report
) -> None:  # type: ignore[no-untyped-def]
    pid = file_report(citizen(name="Phan Thị Hoa")).public_id
    session.commit()
    assert client.get("/can-bo/phan-anh", follow_redirects=False).status_code == 303
    login(client, make_official, Role.FEEDBACK_OFFICER, WARD_A)
    inbox = client.get("/can-bo/phan-anh")
    assert inbox.status_code == 200
    assert pid in inbox.text
    assert 'href="/can-bo/phan-anh"' in inbox.text  # the nav link
    page = client.get(f"/can-bo/phan-anh/{pid}")
    assert page.status_code == 200
    assert "Phan Thị Hoa" in page.text
    token = csrf(page.text)
    # No CSRF token: refused.
    assert client.post(f"/can-bo/phan-anh/{pid}/thao-tac/start", data={}).status_code == 403
    # Resolving without a reply: the page again, the message next to the field.
    r = client.post(f"/can-bo/phan-anh/{pid}/thao-tac/resolve", data={"csrf_token": token})
    assert r.status_code == 422
    assert 'id="note-resolve-error"' in r.text
    assert 'aria-invalid="true"' in r.text
    r = client.post(
        f"/can-bo/phan-anh/{pid}/thao-tac/resolve",
        data={"csrf_token": token, "note": "Đã thu gom rác."},
        files=[("photos", ("ketqua.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    row = report(session, pid)
    assert row.state == "resolved"
    assert len(row.result_photos) == 1
    shown = client.get(f"/can-bo/phan-anh/{pid}/anh/{row.result_photos[0]}")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/png"
    # Again: a conflict, said on the page.
    again = client.post(
        f"/can-bo/phan-anh/{pid}/thao-tac/resolve", data={"csrf_token": token, "note": "x"}
    )
    assert again.status_code == 409
    assert 'role="alert"' in again.text


def test_another_unit_gets_404_and_officials_without_a_role_403(
    client: TestClient, make_official, session: Session, citizen, file_report
) -> None:  # type: ignore[no-untyped-def]
    pid = file_report(citizen()).public_id
    session.commit()
    login(client, make_official, Role.FEEDBACK_OFFICER, WARD_B)
    assert client.get(f"/can-bo/phan-anh/{pid}").status_code == 404
    assert pid not in client.get("/can-bo/phan-anh").text
    client.cookies.clear()
    login(client, make_official, Role.HANDLER, WARD_A)
    assert client.get("/can-bo/phan-anh").status_code == 403


def test_dispatch_and_moderation_queues(
    client: TestClient, make_official, session: Session, settings: Settings, citizen, file_report
) -> None:  # type: ignore[no-untyped-def]
    queued = file_report(citizen(), category_code="other.general", attributes={}).public_id
    session.commit()
    login(client, make_official, Role.DISPATCHER, CITY)
    queue = client.get("/can-bo/phan-anh/dieu-phoi")
    assert queue.status_code == 200
    assert queued in queue.text
    page = client.get(f"/can-bo/phan-anh/{queued}")
    r = client.post(
        f"/can-bo/phan-anh/{queued}/thao-tac/assign",
        data={"csrf_token": csrf(page.text), "agency_code": WARD_B},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert report(session, queued).agency_code == WARD_B
    client.cookies.clear()
    login(client, make_official, Role.MODERATOR, CITY)
    waiting = client.get("/can-bo/phan-anh/kiem-duyet")
    assert waiting.status_code == 200
    assert queued in waiting.text
    page = client.get(f"/can-bo/phan-anh/{queued}")
    r = client.post(
        f"/can-bo/phan-anh/{queued}/thao-tac/moderate",
        data={"csrf_token": csrf(page.text), "approve": "1", "public_description": ""},
    )
    assert r.status_code == 422
    assert 'id="public-moderate-error"' in r.text
    r = client.post(
        f"/can-bo/phan-anh/{queued}/thao-tac/moderate",
        data={"csrf_token": csrf(page.text), "approve": "1", "public_description": "Góp ý chung."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert report(session, queued).moderation == "approved"


def test_the_hotline_form_in_two_steps(client: TestClient, make_official, session: Session) -> None:  # type: ignore[no-untyped-def]
    login(client, make_official, Role.HOTLINE_OPERATOR, CITY)
    assert (
        client.get("/can-bo/phan-anh", follow_redirects=False)
        .headers["location"]
        .endswith("/tong-dai")
    )
    form = client.get("/can-bo/phan-anh/tong-dai")
    token = csrf(form.text)
    step = client.post(
        "/can-bo/phan-anh/tong-dai",
        data={"csrf_token": token, "category_code": "flood.street", "choose": "1"},
    )
    assert step.status_code == 200
    assert 'name="attr_depth"' in step.text
    key = re.search(r'name="submission_key" value="([^"]+)"', step.text)
    assert key
    bad = client.post(
        "/can-bo/phan-anh/tong-dai",
        data={
            "csrf_token": token,
            "category_code": "flood.street",
            "submission_key": key.group(1),
            "description": "Ngập",
        },
    )
    assert bad.status_code == 422
    for field in ("attr-depth-error", "description-error", "caller_name-error"):
        assert f'id="{field}"' in bad.text, field
    good = client.post(
        "/can-bo/phan-anh/tong-dai",
        data={
            "csrf_token": token,
            "category_code": "flood.street",
            "submission_key": key.group(1),
            "description": "Đường Nguyễn Hữu Cảnh ngập sâu sau mưa.",
            "attr_depth": "gt50",
            "address": "Nguyễn Hữu Cảnh, Phường Sài Gòn",
            "caller_name": "Trương Văn Bảy",
            "caller_phone": "0987654321",
        },
    )
    assert good.status_code == 200, good.text
    found = re.search(r"Đã tiếp nhận phản ánh (PA-\d{4}-\d+)", good.text)
    assert found
    assert "/phan-anh/theo-doi/" in good.text
    row = report(session, found.group(1))
    assert (row.channel, row.reporter_name) == ("phone", "Trương Văn Bảy")


# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
