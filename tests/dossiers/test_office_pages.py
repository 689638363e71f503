"""The back office over HTTP: inbox by deadline, a dossier's actions, intake at the desk."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cityhall.core.actors import Role

WARD = "000.67.40.H29"
PDF = b"%PDF-1.4\n" + b"ban quet " * 200 + b"\n%%EOF\n"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _login(client: TestClient, username: str, password: str) -> None:
    token = _csrf(client.get("/dang-nhap").text)
    r = client.post(
        "/dang-nhap",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def desk(client: TestClient, make_official) -> TestClient:  # type: ignore[no-untyped-def]
    official, password = make_official(
        role=Role.INTAKE_OFFICER, agency_code=WARD, unit_code="26740"
    )
    _login(client, official.username, password)
    return client


def _intake(desk: TestClient, **extra: str) -> str:
    page = desk.get("/can-bo/tiep-nhan", params={"thu_tuc": "1.001193"})
    assert page.status_code == 200
    data = {
        "csrf_token": _csrf(page.text),
        "procedure_code": "1.001193",
        "submit_token": re.search(r'name="submit_token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        "id_number": "079188004321",
        "full_name": "Lê Văn Tám",
        "street": "3 Lý Tự Trọng",
        "address_unit": "26740",
        "channel": "counter",
        "f_child_full_name": "Lê Gia Huy",
        "f_child_birth_date": "2026-11-25",
        "f_child_sex": "Nam",
        "f_birth_place": "Bệnh viện Hùng Vương",
        "f_mother_full_name": "Phạm Thị Hoa",
        "f_relationship": "Cha",
        "pages_GIAY_CHUNG_SINH": "2",
        **extra,
    }
    r = desk.post(
        "/can-bo/tiep-nhan",
        data=data,
        files={"doc_GIAY_CHUNG_SINH": ("chung-sinh.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/")[3].split("?")[0]


def test_the_back_office_needs_an_official(client: TestClient) -> None:
    r = client.get("/can-bo/ho-so", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dang-nhap?next=/can-bo/ho-so")


def test_walk_in_intake_then_accept_from_the_dossier_page(desk: TestClient) -> None:
    code = _intake(desk)
    page = desk.get(f"/can-bo/ho-so/{code}")
    assert page.status_code == 200
    assert "Lê Văn Tám" in page.text
    assert "bản quét tại quầy" in page.text
    assert "2 trang" in page.text
    sha = re.search(r"/tep/([0-9a-f]{64})", page.text)
    assert sha
    scan = desk.get(f"/can-bo/ho-so/{code}/tep/{sha.group(1)}")
    assert scan.status_code == 200
    assert scan.content == PDF
    # The desk asks for a supplement: the procedure's parts are offered to tick.
    assert 'name="missing" value="GIAY_CHUNG_SINH"' in page.text
    empty = desk.post(
        f"/can-bo/ho-so/{code}/thao-tac/request-supplement", data={"csrf_token": _csrf(page.text)}
    )
    assert empty.status_code == 422
    assert "Phải liệt kê một lần đầy đủ" in empty.text
    ok = desk.post(
        f"/can-bo/ho-so/{code}/thao-tac/accept",
        data={"csrf_token": _csrf(page.text), "note": "Đủ hồ sơ"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    after = desk.get(ok.headers["location"])
    assert "Đã thực hiện:" in after.text
    assert "Đã tiếp nhận" in after.text
    # Impossible now: the page says why, in place.
    again = desk.post(
        f"/can-bo/ho-so/{code}/thao-tac/accept", data={"csrf_token": _csrf(after.text)}
    )
    assert again.status_code == 409
    assert "Không thể tiếp nhận hồ sơ" in again.text


def test_inbox_is_sorted_by_deadline_and_marks_urgency(desk: TestClient) -> None:
    first, second = _intake(desk), _intake(desk, id_number="079188004322")
    inbox = desk.get("/can-bo/ho-so")
    assert inbox.status_code == 200
    assert inbox.text.index(first) < inbox.text.index(second)
    assert 'class="urgency' in inbox.text
    found = desk.get("/can-bo/ho-so", params={"q": "079188004322"})
    assert second in found.text
    assert first not in found.text
    bad = desk.get("/can-bo/ho-so", params={"state": "flying"})
    assert bad.status_code == 200
    assert "Bộ lọc không hợp lệ" in bad.text


def test_intake_errors_are_inline_and_keep_what_was_typed(desk: TestClient) -> None:
    page = desk.get("/can-bo/tiep-nhan", params={"thu_tuc": "1.001193"})
    r = desk.post(
        "/can-bo/tiep-nhan",
        data={
            "csrf_token": _csrf(page.text),
            "procedure_code": "1.001193",
            "id_number": "123",
            "full_name": "Lê Văn Tám",
            "street": "3 Lý Tự Trọng",
            "address_unit": "26740",
            "f_birth_place": "Bệnh viện Hùng Vương",
        },
    )
    assert r.status_code == 422
    assert 'id="id_number-error"' in r.text
    assert 'value="Bệnh viện Hùng Vương"' in r.text


def test_another_wards_officer_cannot_open_the_dossier(
    desk: TestClient,
    make_official,  # type: ignore[no-untyped-def]
) -> None:
    code = _intake(desk)
    official, password = make_official(
        role=Role.INTAKE_OFFICER, agency_code="000.67.43.H29", unit_code="26743"
    )
    with TestClient(desk.app) as other:
        _login(other, official.username, password)
        assert (
            other.get(f"/can-bo/ho-so/{code}", headers={"accept": "text/html"}).status_code == 404
        )
        assert code not in other.get("/can-bo/ho-so").text
