from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.core.actors import Role
from cityhall.core.audit import AuditEvent
from cityhall.identity.models import Official

TOKEN = "/api/v1/auth/token"


def _login(client: TestClient, username: str, password: str, **extra: str) -> object:
    return client.post(TOKEN, json={"username": username, "password": password, **extra})


def test_password_is_stored_with_argon2id(make_official, session: Session) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    stored = session.scalar(select(Official.password_hash).where(Official.id == official.id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert password not in stored


def test_token_login_and_use(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official(role=Role.HANDLER)
    r = _login(client, official.username.upper(), password)  # usernames are case-insensitive
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    token = r.json()["access_token"]  # type: ignore[attr-defined]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == official.username
    assert me.json()["roles"][0]["role"] == "handler"


def test_wrong_password_is_a_vietnamese_problem(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, _ = make_official()
    r = client.post(TOKEN, json={"username": official.username, "password": "sai-mat-khau"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    en = client.post(
        TOKEN,
        json={"username": official.username, "password": "sai-mat-khau"},
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert en.json()["detail"] == "Incorrect username or password."
    assert en.headers["content-language"] == "en"


def test_unknown_user_gets_the_same_answer(client: TestClient) -> None:
    r = client.post(TOKEN, json={"username": "khong-ton-tai", "password": "abc"})
    assert r.status_code == 401
    assert r.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."


def test_login_is_rate_limited_per_username(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    for _ in range(5):
        assert _login(client, official.username, "sai").status_code == 401  # type: ignore[attr-defined]
    blocked = _login(client, official.username, password)  # even the right password now
    assert blocked.status_code == 429  # type: ignore[attr-defined]
    assert int(blocked.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "15 phút" in blocked.json()["detail"]  # type: ignore[attr-defined]


def test_revoked_token_stops_working(client: TestClient, official_headers) -> None:  # type: ignore[no-untyped-def]
    headers = official_headers(Role.HANDLER)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(TOKEN, headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_revoke_another_session_of_mine(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    first = _login(client, official.username, password).json()  # type: ignore[attr-defined]
    second = _login(client, official.username, password).json()  # type: ignore[attr-defined]
    h2 = {"Authorization": f"Bearer {second['access_token']}"}
    listed = client.get("/api/v1/auth/sessions", headers=h2).json()
    assert {s["id"] for s in listed} >= {first["session_id"], second["session_id"]}
    assert (
        client.delete(f"/api/v1/auth/sessions/{first['session_id']}", headers=h2).status_code == 204
    )
    h1 = {"Authorization": f"Bearer {first['access_token']}"}
    assert client.get("/api/v1/me", headers=h1).status_code == 401
    assert client.get("/api/v1/me", headers=h2).status_code == 200


def test_totp_enrolment_and_login(client: TestClient, make_official) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    token = _login(client, official.username, password).json()["access_token"]  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {token}"}
    setup = client.post("/api/v1/auth/totp", headers=h).json()
    assert setup["provisioning_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(setup["secret"])
    assert (
        client.post("/api/v1/auth/totp/confirm", headers=h, json={"code": "000000"}).status_code
        in (422,)
        or totp.now() == "000000"
    )
    assert (
        client.post("/api/v1/auth/totp/confirm", headers=h, json={"code": totp.now()}).status_code
        == 204
    )
    no_code = _login(client, official.username, password)
    assert no_code.status_code == 401  # type: ignore[attr-defined]
    assert "mã xác thực" in no_code.json()["detail"]  # type: ignore[attr-defined]
    # The code used to confirm was consumed; the next time step's code logs in.
    next_code = totp.at(totp.timecode(__import__("datetime").datetime.now()) * 30 + 30)
    ok = _login(client, official.username, password, totp=next_code)
    assert ok.status_code == 200, ok.text  # type: ignore[attr-defined]
    replay = _login(client, official.username, password, totp=next_code)
    assert replay.status_code == 401  # type: ignore[attr-defined]


def test_admin_only_routes_deny_by_default(client: TestClient, official_headers) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/officials").status_code == 401
    assert (
        client.get("/api/v1/officials", headers=official_headers(Role.HANDLER)).status_code == 403
    )
    admin = official_headers(Role.ADMIN)
    listed = client.get("/api/v1/officials", headers=admin)
    assert listed.status_code == 200
    assert listed.json()["total"] >= 2


def test_admin_creates_an_official_audited(
    client: TestClient,
    official_headers,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    admin = official_headers(Role.ADMIN)
    body = {
        "username": "tiepnhan.moi",
        "full_name": "Trần Thị Tiếp Nhận",
        "password": "mot-mat-khau-du-dai",
        "roles": [{"role": "intake_officer", "agency_code": "000.00.00.H29"}],
    }
    r = client.post("/api/v1/officials", json=body, headers=admin)
    assert r.status_code == 201, r.text
    dup = client.post("/api/v1/officials", json=body, headers=admin)
    assert dup.status_code == 409
    assert dup.json()["errors"][0]["field"] == "username"
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "identity.official.create")
    ).all()
    assert any(e.object_id == str(r.json()["id"]) for e in events)


def test_malformed_and_invalid_bodies_name_the_field(client: TestClient) -> None:
    broken = client.post(
        TOKEN, content=b'{"username": "a", ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "malformed-json"
    unknown = client.post(TOKEN, json={"username": "a", "password": "b", "role": "admin"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "role", "message": "Trường này không được chấp nhận."}
    ]
    wrong_type = client.post(TOKEN, json={"username": ["a"], "password": "b"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "username"
    missing = client.post(TOKEN, json={"username": "a"}, headers={"Accept-Language": "en"})
    assert missing.json()["errors"] == [{"field": "password", "message": "This field is required."}]
    not_object = client.post(TOKEN, json=[1, 2])
    assert not_object.status_code == 422


def test_citizen_lookup_is_audited_with_purpose(
    client: TestClient,
    official_headers,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    from cityhall.core.actors import SYSTEM
    from cityhall.identity import service

    service.ensure_citizen(session, actor=SYSTEM, pin="079203001234", full_name="Lê Văn Dân")
    session.commit()
    h = official_headers(Role.INTAKE_OFFICER)
    assert client.get("/api/v1/citizens/079203001234", headers=h).status_code == 422  # no purpose
    r = client.get(
        "/api/v1/citizens/079203001234", params={"purpose": "Tiếp nhận hồ sơ"}, headers=h
    )
    assert r.status_code == 200
    assert r.json()["full_name"] == "Lê Văn Dân"
    reads = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "identity.citizen.read", AuditEvent.subject_id == "079203001234"
        )
    ).all()
    assert len(reads) == 1
    assert reads[0].purpose == "Tiếp nhận hồ sơ"
    bad = client.get("/api/v1/citizens/12345", params={"purpose": "kiểm tra"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "pin"
    assert client.get("/api/v1/citizens/079203001234", params={"purpose": "xem"}).status_code == 401


def test_roles_name_an_existing_agency(client: TestClient, official_headers) -> None:  # type: ignore[no-untyped-def]
    admin = official_headers(Role.ADMIN)
    body = {
        "username": "sai.coquan",
        "full_name": "Cán bộ",
        "password": "mot-mat-khau-du-dai",
        "roles": [{"role": "handler", "agency_code": "999.99.99.H29"}],
    }
    r = client.post("/api/v1/officials", json=body, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "roles.0.agency_code", "message": "Không có cơ quan mã 999.99.99.H29."}
    ]
    # A ward People's Committee role gets its ward filled in.
    body["roles"] = [{"role": "handler", "agency_code": "000.67.40.H29"}]
    ok = client.post("/api/v1/officials", json=body, headers=admin)
    assert ok.status_code == 201, ok.text
    assert ok.json()["roles"][0]["unit_code"] == "26740"


def test_cli_bootstraps_an_admin_who_can_log_in(fresh_db: str) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CITYHALL_DATABASE_URL": fresh_db,
        "CITYHALL_NEW_ADMIN_PASSWORD": "quan-tri-dau-tien-2026",
    }
    cmd = [sys.executable, "-m", "cityhall", "identity", "create-admin"]
    args = ["--username", "admin.dau", "--full-name", "Quản Trị Đầu Tiên"]
    made = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    again = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 2
    assert "Tên đăng nhập đã được dùng." in again.stdout


def test_out_of_range_numbers_are_rejected_not_crashed(
    client: TestClient, official_headers
) -> None:  # type: ignore[no-untyped-def]
    admin = official_headers(Role.ADMIN)
    huge = client.get("/api/v1/officials/551866376762462", headers=admin)
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["field"] == "official_id"
    far = client.get("/api/v1/officials", params={"offset": 2**64}, headers=admin)
    assert far.status_code == 422
    assert far.json()["errors"][0]["field"] == "offset"
