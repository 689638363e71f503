"""Administrators' pages: officials and roles, the calendar, the catalogue's versions."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cityhall.core.actors import Role


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _login(client: TestClient, make_official, role: Role) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official(role=role)
    token = _csrf(client.get("/dang-nhap").text)
    r = client.post(
        "/dang-nhap",
        data={"username": official.username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303


@pytest.fixture
def admin(client: TestClient, make_official) -> TestClient:  # type: ignore[no-untyped-def]
    _login(client, make_official, Role.ADMIN)
    return client


def test_admin_pages_are_for_administrators_only(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/quan-tri/can-bo", follow_redirects=False).status_code == 303
    _login(client, make_official, Role.HANDLER)
    for path in ("/quan-tri/can-bo", "/quan-tri/lich", "/quan-tri/danh-muc"):
        assert client.get(path, headers={"accept": "text/html"}).status_code == 403


def test_create_an_official_with_inline_errors_first(admin: TestClient) -> None:
    page = admin.get("/quan-tri/can-bo")
    assert page.status_code == 200
    data = {
        "csrf_token": _csrf(page.text),
        "username": "tiepnhan.bt2",
        "full_name": "Ngô Tiếp Nhận",
        "password": "ngan",
        "role": "intake_officer",
        "agency_code": "000.67.43.H29",
    }
    bad = admin.post("/quan-tri/can-bo", data=data)
    assert bad.status_code == 422
    assert 'id="password-error"' in bad.text
    assert 'value="Ngô Tiếp Nhận"' in bad.text
    ok = admin.post(
        "/quan-tri/can-bo", data={**data, "password": "mat-khau-du-dai-123"}, follow_redirects=False
    )
    assert ok.status_code == 303
    listing = admin.get(ok.headers["location"])
    assert "tiepnhan.bt2" in listing.text
    assert "Đã tạo tài khoản tiepnhan.bt2" in listing.text


def test_calendar_override_added_and_removed(admin: TestClient) -> None:
    page = admin.get("/quan-tri/lich", params={"nam": 2031})
    r = admin.post(
        "/quan-tri/lich",
        data={
            "csrf_token": _csrf(page.text),
            "day": "2031-06-10",
            "kind": "holiday",
            "name": "Nghỉ đột xuất",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    shown = admin.get("/quan-tri/lich", params={"nam": 2031}).text
    assert "10/06/2031" in shown
    assert "Nghỉ đột xuất" in shown
    empty = admin.post(
        "/quan-tri/lich",
        data={"csrf_token": _csrf(shown), "day": "2031-06-11", "kind": "holiday", "name": ""},
    )
    assert empty.status_code == 422
    assert "Tên ngày không được để trống." in empty.text
    gone = admin.post(
        "/quan-tri/lich",
        data={"csrf_token": _csrf(shown), "day": "2031-06-10", "delete": "1"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert "Nghỉ đột xuất" not in admin.get("/quan-tri/lich", params={"nam": 2031}).text


def test_catalogue_versions_and_reimport(admin: TestClient) -> None:
    page = admin.get("/quan-tri/danh-muc")
    assert page.status_code == 200
    assert "1.001193" in page.text
    assert "Đang hiệu lực" in page.text
    r = admin.post("/quan-tri/danh-muc/nhap", data={"csrf_token": _csrf(page.text)})
    assert r.status_code == 200
    assert "0 phiên bản mới" in r.text


def test_suspend_and_activate_a_version(admin: TestClient) -> None:
    page = admin.get("/quan-tri/danh-muc")
    match = re.search(
        r'action="/quan-tri/danh-muc/(\d+)/trang-thai"[^>]*>(?:(?!</form>).)*1\.001193',
        page.text,
        re.S,
    )
    assert match
    version = match.group(1)
    off = admin.post(
        f"/quan-tri/danh-muc/{version}/trang-thai",
        data={"csrf_token": _csrf(page.text), "active": "0"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert admin.get("/api/v1/procedures/1.001193").status_code == 404  # not offered any more
    suspended = admin.get("/quan-tri/danh-muc").text
    assert "Tạm dừng" in suspended
    # The same row now offers to put the version back in service.
    assert re.search(
        rf'action="/quan-tri/danh-muc/{version}/trang-thai".*?name="active" value="1".*?Kích hoạt',
        suspended,
        re.S,
    )
    on = admin.post(
        f"/quan-tri/danh-muc/{version}/trang-thai",
        data={"csrf_token": _csrf(page.text), "active": "1"},
        follow_redirects=False,
    )
    assert on.status_code == 303
    assert admin.get("/api/v1/procedures/1.001193").status_code == 200


def test_grant_and_revoke_a_role(admin: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, _ = make_official(role=Role.HANDLER, agency_code="000.67.40.H29", unit_code="26740")
    page = admin.get("/quan-tri/can-bo")
    r = admin.post(
        f"/quan-tri/can-bo/{official.id}/vai-tro",
        data={"csrf_token": _csrf(page.text), "role": "approver", "agency_code": "000.67.40.H29"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listing = admin.get("/quan-tri/can-bo").text
    roles = re.findall(
        rf'action="/quan-tri/can-bo/{official.id}/vai-tro".*?name="revoke" value="(\d+)"',
        listing,
        re.S,
    )
    assert len(roles) == 2
    assert (
        admin.post(
            f"/quan-tri/can-bo/{official.id}/vai-tro",
            data={"csrf_token": _csrf(listing), "revoke": roles[0]},
            follow_redirects=False,
        ).status_code
        == 303
    )
    last = re.findall(
        rf'action="/quan-tri/can-bo/{official.id}/vai-tro".*?name="revoke" value="(\d+)"',
        admin.get("/quan-tri/can-bo").text,
        re.S,
    )
    refused = admin.post(
        f"/quan-tri/can-bo/{official.id}/vai-tro",
        data={"csrf_token": _csrf(listing), "revoke": last[0]},
    )
    assert refused.status_code == 409
    assert "ít nhất một vai trò" in refused.text
