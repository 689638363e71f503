"""Login pages over HTTP: CSRF, inline errors, cookies, revocation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cityhall.core.actors import Role


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_login_without_csrf_token_is_refused(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    client.get("/dang-nhap")
    r = client.post(
        "/dang-nhap",
        data={"username": official.username, "password": password},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 403
    assert "Phiên biểu mẫu đã hết hạn" in r.text
    assert "ch_session" not in r.cookies


def test_cross_site_form_post_is_refused(client: TestClient) -> None:
    r = client.post("/dang-xuat", data={}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    assert r.json()["code"] == "cross-origin"


def test_login_logout_flow(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official(role=Role.APPROVER)
    token = _csrf(client.get("/dang-nhap").text)
    wrong = client.post(
        "/dang-nhap",
        data={"username": official.username, "password": "sai", "csrf_token": token},
    )
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.text
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    assert f'value="{official.username}"' in wrong.text  # what was typed is kept
    ok = client.post(
        "/dang-nhap",
        data={"username": official.username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/tai-khoan"
    cookie = ok.headers["set-cookie"]
    assert "ch_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = client.get("/tai-khoan")
    assert page.status_code == 200
    assert official.full_name in page.text
    assert "Lãnh đạo phê duyệt" in page.text
    # The session cookie does not authenticate the API (bearer only): no CSRF path there.
    assert client.get("/api/v1/me").status_code == 401
    out = client.post("/dang-xuat", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/tai-khoan", follow_redirects=False).status_code == 303


def test_open_redirect_is_not_possible(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    token = _csrf(client.get("/dang-nhap").text)
    r = client.post(
        "/dang-nhap",
        data={
            "username": official.username,
            "password": password,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/tai-khoan"


def test_pages_speak_english_when_asked(client: TestClient) -> None:
    r = client.get("/dang-nhap", params={"lang": "en"})
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "<h1>Officials&#39; login</h1>" in r.text
    assert 'for="password">Password</label>' in r.text
    home = client.get("/", headers={"Accept-Language": "vi"})
    assert "<h1>Trung tâm hành chính số TP. Hồ Chí Minh</h1>" in home.text
