"""Citizen login with the e-ID over real HTTP: the development provider runs as its own
process (``cityhall eid serve``), the portal calls it as it would call VNeID."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import Settings
from cityhall.core.actors import ActorKind, system_admin
from cityhall.core.audit import AuditEvent
from cityhall.identity import oidc, service
from cityhall.identity.eid.citizens import BY_PIN
from cityhall.identity.models import AuthSession, Citizen, CitizenAddress
from cityhall.web.app import create_app

LOGIN = "/dang-nhap-cong-dan"
DUNG = "079196002468"  # Phạm Thị Dung, Phường Tân Định: not a citizen of the database yet
AN = "079090001234"  # Nguyễn Văn An, one of cityhall.demo.DEMO_CITIZENS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cityhall", "eid", "serve", "--port", str(port), *extra],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "provider died")
        try:
            if httpx.get(url + "/.well-known/openid-configuration", timeout=0.5).is_success:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the development provider did not start")


@pytest.fixture(scope="module")
def providers(settings: Settings) -> Iterator[dict[str, str]]:
    """Two providers, started together: the normal one, and one whose codes live 0.5 s."""
    ports = {"main": _free_port(), "short": _free_port()}
    procs = {
        "main": _start(ports["main"]),
        "short": _start(ports["short"], "--code-ttl", "0.5"),
    }
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, proc in procs.items():
            _wait(proc, urls[name])
        yield urls
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=15)


@pytest.fixture
def eid_settings(settings: Settings, providers: dict[str, str]) -> Settings:
    return settings.model_copy(update={"eid_issuer": providers["main"]})


def _portal(settings: Settings, factory: sessionmaker[Session]) -> TestClient:
    return TestClient(create_app(settings, factory), base_url="http://testserver")


@pytest.fixture
def portal(eid_settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with _portal(eid_settings, factory) as c:
        yield c


# --- driving the flow like a browser --------------------------------------------------------


def _hidden(page: str) -> dict[str, str]:
    return {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def start(portal: TestClient, next_url: str | None = None) -> str:
    """The portal sends the browser to the provider: its authorization URL."""
    r = portal.get(LOGIN, params={"next": next_url} if next_url else None, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "ch_eid_login" in r.cookies
    return r.headers["location"]


def consent(
    authorize_url: str, pin: str = DUNG, action: str = "allow", **tamper: str
) -> httpx.Response:
    """The citizen picks a demo person at the provider and agrees (or declines)."""
    with httpx.Client() as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = {**_hidden(page.text), "pin": pin, "action": action, **tamper}
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
        return browser.post(
            origin + "/authorize", data=form, headers={"origin": origin}, follow_redirects=False
        )


def back(portal: TestClient, redirect: httpx.Response, **override: str) -> httpx.Response:
    """The browser follows the provider's redirect to the portal's callback."""
    assert redirect.status_code == 303, redirect.text
    parts = urlsplit(redirect.headers["location"])
    assert parts.path == LOGIN + "/callback"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | override
    return portal.get(f"{parts.path}?{urlencode(query)}", follow_redirects=False)


def login(portal: TestClient, pin: str = DUNG, next_url: str | None = None) -> httpx.Response:
    return back(portal, consent(start(portal, next_url), pin))


def _csrf(portal: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/dang-nhap").text)
    assert match
    return match.group(1)


# --- the whole login ---------------------------------------------------------------------


def test_login_creates_the_citizen_and_a_browser_session(
    portal: TestClient, session: Session
) -> None:
    authorize_url = start(portal, "/thu-tuc?q=khai+sinh")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0]
    assert query["nonce"][0]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/dang-nhap-cong-dan/callback"]

    r = back(portal, consent(authorize_url, DUNG))
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/thu-tuc?q=khai+sinh"
    set_cookie = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookie if c.startswith("ch_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert any(c.startswith('ch_eid_login=""') for c in set_cookie)  # the pending login is gone

    citizen = session.scalars(select(Citizen).where(Citizen.pin == DUNG)).one()
    assert citizen.full_name == "Phạm Thị Dung"
    assert citizen.birth_date == date(1996, 8, 19)
    address = session.get(CitizenAddress, citizen.id)
    assert address is not None
    assert (address.street, address.unit_code, address.source) == (
        "27 Trần Quang Khải",
        "26737",
        "vneid-oidc",
    )
    browser_session = session.scalars(
        select(AuthSession).where(AuthSession.citizen_id == citizen.id)
    ).one()
    assert browser_session.kind == "browser"

    # The cookie is the officials' session cookie: page_actor knows the citizen.
    token = portal.cookies.get("ch_session")
    assert token
    actor = service.actor_for_token(session, token, kind="browser")
    assert actor is not None
    assert actor.kind is ActorKind.CITIZEN
    assert actor.id == str(citizen.id)
    profile = service.citizen_profile(session, actor=actor)
    assert profile.pin == DUNG
    assert profile.full_name == "Phạm Thị Dung"
    assert profile.address is not None
    assert profile.address.unit_name == "Phường Tân Định"

    login_event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "identity.citizen.login", AuditEvent.subject_id == DUNG
        )
    ).one()
    assert login_event.data["method"] == "vneid-oidc"

    # Logging out (with the form's CSRF token) revokes the session.
    out = portal.post(
        "/dang-xuat-cong-dan", data={"csrf_token": _csrf(portal)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/"
    session.refresh(browser_session)
    assert browser_session.revoked_at is not None
    assert service.actor_for_token(session, token, kind="browser") is None


def test_login_brings_name_birth_date_and_address_up_to_date(
    portal: TestClient, session: Session
) -> None:
    service.ensure_citizen(session, actor=system_admin(), pin=AN, full_name="Nguyen Van An")
    session.commit()
    first = login(portal, AN)
    assert first.status_code == 303
    assert first.headers["location"] == "/ho-so-cua-toi"
    citizen = session.scalars(select(Citizen).where(Citizen.pin == AN)).one()
    session.refresh(citizen)
    assert citizen.full_name == "Nguyễn Văn An"
    assert citizen.birth_date == date(1990, 5, 12)
    update = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "identity.citizen.update", AuditEvent.subject_id == AN
        )
    ).one()
    assert update.data["fields"] == ["full_name", "birth_date", "address"]
    # Already logged in: the start page goes straight on.
    again = portal.get(LOGIN, params={"next": "/thu-tuc"}, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/thu-tuc"


def test_login_replaces_the_browsers_previous_session(
    portal: TestClient, session: Session, make_official
) -> None:  # type: ignore[no-untyped-def]
    official, password = make_official()
    token = _csrf(portal)
    r = portal.post(
        "/dang-nhap",
        data={"username": official.username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    official_token = portal.cookies.get("ch_session")
    assert official_token
    assert login(portal).status_code == 303
    assert service.actor_for_token(session, official_token, kind="browser") is None
    assert portal.cookies.get("ch_session") != official_token


def test_next_must_be_a_local_path(portal: TestClient) -> None:
    r = login(portal, next_url="//evil.example/")
    assert r.status_code == 303
    assert r.headers["location"] == "/ho-so-cua-toi"


def test_logout_needs_the_csrf_token(portal: TestClient) -> None:
    assert login(portal).status_code == 303
    r = portal.post("/dang-xuat-cong-dan", data={}, headers={"accept": "text/html"})
    assert r.status_code == 403
    assert portal.cookies.get("ch_session")


# --- refused logins: a clear page, never a 500 -----------------------------------------------


def _refused(r: httpx.Response, status: int, code: str, text: str) -> None:
    assert r.status_code == status, r.text
    assert f"<code>{code}</code>" in r.text
    assert text in html.unescape(r.text)
    assert re.search(r'<a class="button" href="/dang-nhap-cong-dan[^"]*">Thử đăng nhập lại', r.text)
    assert "ch_session" not in r.cookies


def test_wrong_state_is_refused(portal: TestClient) -> None:
    redirect = consent(start(portal))
    r = back(portal, redirect, state="not-the-state-we-sent")
    _refused(r, 400, "eid-state-mismatch", "không khớp với yêu cầu đã gửi (state)")


def test_callback_without_a_login_in_progress_is_refused(portal: TestClient) -> None:
    redirect = consent(start(portal))
    portal.cookies.clear()
    _refused(back(portal, redirect), 400, "eid-no-login-in-progress", "đã hết hạn")


def test_replayed_code_is_refused(portal: TestClient) -> None:
    redirect = consent(start(portal))
    pending = portal.cookies.get("ch_eid_login")
    assert pending
    assert back(portal, redirect).status_code == 303
    # An attacker replays the callback (code and state) with the login cookie kept.
    portal.cookies.set("ch_eid_login", pending, path=LOGIN)
    r = back(portal, redirect)
    _refused(r, 400, "eid-invalid-grant", "Mã đăng nhập không còn hiệu lực")
    assert "authorization code was already used" in r.text


def test_expired_code_is_refused(
    settings: Settings, providers: dict[str, str], factory: sessionmaker[Session]
) -> None:
    with _portal(settings.model_copy(update={"eid_issuer": providers["short"]}), factory) as c:
        redirect = consent(start(c))
        time.sleep(0.6)
        r = back(c, redirect)
    _refused(r, 400, "eid-invalid-grant", "Mã đăng nhập không còn hiệu lực")
    assert "authorization code has expired" in r.text


def test_tampered_nonce_is_refused(portal: TestClient) -> None:
    # The nonce is swapped on its way through the provider: the ID token carries another.
    r = back(portal, consent(start(portal), nonce="a-nonce-the-portal-never-sent"))
    _refused(r, 502, "id-token-nonce", "Mã nonce trong ID token không khớp")


def test_denied_consent(portal: TestClient) -> None:
    r = back(portal, consent(start(portal), action="deny"))
    _refused(r, 403, "eid-access-denied", "Bạn đã từ chối chia sẻ thông tin định danh")


def test_provider_down(settings: Settings, factory: sessionmaker[Session]) -> None:
    down = settings.model_copy(update={"eid_issuer": f"http://127.0.0.1:{_free_port()}"})
    with _portal(down, factory) as c:
        r = c.get(LOGIN, follow_redirects=False)
    _refused(r, 502, "eid-unavailable", "Không kết nối được với hệ thống định danh điện tử")
    english = _portal(down, factory).get(LOGIN, headers={"accept-language": "en"})
    assert english.status_code == 502
    assert "Could not reach the national e-ID system" in english.text


def test_provider_error_is_shown(portal: TestClient) -> None:
    redirect = consent(start(portal))
    r = back(portal, redirect, error="temporarily_unavailable", code="")
    _refused(r, 400, "eid-authorization-error", "temporarily_unavailable")


# --- the provider's own checks (called directly, as a client would) -------------------------


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_params(settings: Settings, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": settings.eid_client_id,
        "redirect_uri": oidc.redirect_uri(settings),
        "scope": "openid profile address pin phone",
        "state": "s-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def _code(provider: str, settings: Settings, challenge: str, **extra: str) -> str:
    url = f"{provider}/authorize?{urlencode(_authorize_params(settings, challenge, **extra))}"
    redirect = consent(url, AN)
    assert redirect.status_code == 303
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["iss"] == [provider]
    return query["code"][0]


def _token(provider: str, settings: Settings, **form: str) -> httpx.Response:
    body = {"grant_type": "authorization_code", "redirect_uri": oidc.redirect_uri(settings)}
    return httpx.post(
        f"{provider}/token",
        data={**body, **form},
        auth=(settings.eid_client_id, settings.resolved_eid_client_secret()),
    )


def test_provider_discovery_and_keys(eid_settings: Settings, providers: dict[str, str]) -> None:
    doc = httpx.get(providers["main"] + "/.well-known/openid-configuration").json()
    assert doc["issuer"] == providers["main"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    keys = httpx.get(doc["jwks_uri"]).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA"
    assert "d" not in keys[0]
    key_file = Path(eid_settings.data_dir) / "eid-dev-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (Path(eid_settings.data_dir) / "eid-client-secret").stat().st_mode & 0o777 == 0o600
    assert not list(Path(__file__).resolve().parents[2].joinpath("src").rglob("*.pem"))


def test_provider_demo_citizens_include_the_platform_demo() -> None:
    from cityhall.demo import DEMO_CITIZENS

    for pin, name, born in DEMO_CITIZENS:
        assert (BY_PIN[pin].full_name, BY_PIN[pin].birth_date) == (name, born)
    assert len(BY_PIN) >= 5
    assert {c.address.unit_code for c in BY_PIN.values()} >= {"26740", "26743", "26737"}


def test_provider_wrong_code_verifier(eid_settings: Settings, providers: dict[str, str]) -> None:
    verifier, challenge = _pkce()
    code = _code(providers["main"], eid_settings, challenge)
    wrong, _ = _pkce()
    r = _token(providers["main"], eid_settings, code=code, code_verifier=wrong)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge",
    }
    # The code was spent by the failed attempt: no second guess.
    again = _token(providers["main"], eid_settings, code=code, code_verifier=verifier)
    assert again.json()["error"] == "invalid_grant"


def test_provider_wrong_redirect_uri(eid_settings: Settings, providers: dict[str, str]) -> None:
    verifier, challenge = _pkce()
    # At the authorization endpoint: an unregistered redirect URI gets a page, no redirect.
    params = _authorize_params(eid_settings, challenge, redirect_uri="https://evil.example/cb")
    page = httpx.get(providers["main"] + "/authorize", params=params)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "không khớp với địa chỉ ứng dụng đã đăng ký" in page.text
    # At the token endpoint: not the redirect URI the code was issued for.
    code = _code(providers["main"], eid_settings, challenge)
    r = _token(
        providers["main"],
        eid_settings,
        code=code,
        code_verifier=verifier,
        redirect_uri="http://127.0.0.1:8000/other",
    )
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "redirect_uri does not match the authorization request",
    }


def test_provider_requires_pkce_s256_and_a_known_client(
    eid_settings: Settings, providers: dict[str, str]
) -> None:
    _, challenge = _pkce()
    base = _authorize_params(eid_settings, challenge)
    for change, description in (
        ({"code_challenge": ""}, "code_challenge is required (PKCE)"),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256"),
        ({"response_type": "token"}, "only response_type=code is supported"),
        ({"scope": "profile"}, "the openid scope is required"),
    ):
        r = httpx.get(providers["main"] + "/authorize", params={**base, **change})
        assert r.status_code == 303
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["error_description"] == [description]
        assert query["state"] == [base["state"]]
    unknown = httpx.get(providers["main"] + "/authorize", params={**base, "client_id": "other"})
    assert unknown.status_code == 400
    assert "chưa được đăng ký" in unknown.text
    # The consent page is Vietnamese, accessible, CSRF-protected and never framed.
    page = httpx.get(providers["main"] + "/authorize", params=base)
    assert '<html lang="vi">' in page.text
    assert "<legend>Chọn công dân thử nghiệm để đăng nhập</legend>" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Not "no-referrer": with it, browsers send "Origin: null" and the form's own POST fails.
    assert page.headers["referrer-policy"] == "same-origin"
    forged = httpx.post(
        providers["main"] + "/authorize", data={**base, "pin": AN, "action": "allow"}
    )
    assert forged.status_code == 403
    assert "location" not in forged.headers


def test_provider_token_endpoint_client_authentication(
    eid_settings: Settings, providers: dict[str, str]
) -> None:
    provider = providers["main"]
    verifier, challenge = _pkce()
    code = _code(provider, eid_settings, challenge)
    bad = httpx.post(
        f"{provider}/token",
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        auth=(eid_settings.eid_client_id, "wrong-secret"),
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    # client_secret_post works as well as Basic; the code was not spent by a stranger.
    ok = httpx.post(
        f"{provider}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": oidc.redirect_uri(eid_settings),
            "client_id": eid_settings.eid_client_id,
            "client_secret": eid_settings.resolved_eid_client_secret(),
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["cache-control"] == "no-store"
    tokens = ok.json()
    info = httpx.get(
        f"{provider}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    claims = info.json()
    assert claims["pin"] == AN
    assert claims["name"] == "Nguyễn Văn An"
    assert claims["address"]["unit_code"] == "26740"
    assert claims["sub"] != AN  # pairwise, not the identification number
    # A replayed code also revokes what it gave.
    replay = _token(provider, eid_settings, code=code, code_verifier=verifier)
    assert replay.json()["error_description"].startswith("authorization code was already used")
    revoked = httpx.get(
        f"{provider}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# --- ID token verification (tokens made here with the provider's own key) --------------------


def _claims(settings: Settings, provider: str, **change: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": provider,
        "sub": "pairwise-subject",
        "aud": settings.eid_client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
        "name": "Nguyễn Văn An",
        "pin": AN,
    }
    claims.update(change)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: RSAKey, alg: str = "RS256", **header: str) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, claims, key, algorithms=[alg])


@pytest.fixture
def dev_key(eid_settings: Settings) -> RSAKey:
    pem = (Path(eid_settings.data_dir) / "eid-dev-key.pem").read_bytes()
    kid = RSAKey.import_key(pem).thumbprint()
    return RSAKey.import_key(pem, {"kid": kid})


def _verify(settings: Settings, token: str, access_token: str | None = None) -> dict[str, Any]:
    metadata = oidc.discover(settings)
    return oidc.verify_id_token(
        settings, metadata, token, nonce="the-nonce", access_token=access_token
    )


def test_a_well_formed_id_token_is_accepted(eid_settings: Settings, dev_key: RSAKey) -> None:
    claims = _verify(eid_settings, _sign(_claims(eid_settings, eid_settings.eid_issuer), dev_key))
    assert claims["pin"] == AN


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tamper_payload(token: str) -> str:
    head, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["pin"] = "079185004321"  # someone else
    return f"{head}.{_b64(json.dumps(data).encode())}.{signature}"


@pytest.mark.parametrize(
    ("case", "code", "reason"),
    [
        ("payload", "id-token-signature", "Chữ ký của ID token không hợp lệ."),
        ("other_key", "id-token-signature", "Chữ ký của ID token không hợp lệ."),
        ("unknown_kid", "id-token-unknown-key", "khóa không có trong JWKS"),
        ("hs256", "id-token-algorithm", "RS256"),
        ("none", "id-token-algorithm", "RS256"),
        ("iss", "id-token-iss", "(iss)"),
        ("aud", "id-token-aud", "(aud)"),
        ("exp", "id-token-exp", "đã hết hạn (exp)"),
        ("nonce", "id-token-nonce", "nonce"),
        ("no_nonce", "id-token-nonce", "nonce"),
        ("at_hash", "id-token-at_hash", "(at_hash)"),
        ("garbage", "id-token-malformed", "JWT"),
    ],
)
def test_a_tampered_id_token_is_refused(
    eid_settings: Settings, dev_key: RSAKey, case: str, code: str, reason: str
) -> None:
    issuer = eid_settings.eid_issuer
    good = _claims(eid_settings, issuer)
    access_token = None
    if case == "payload":
        token = _tamper_payload(_sign(good, dev_key))
    elif case == "other_key":
        other = RSAKey.generate_key(2048, {"kid": dev_key.kid})
        token = _sign(good, other)
    elif case == "unknown_kid":
        token = _sign(good, RSAKey.generate_key(2048, {"kid": "rotated-away"}))
    elif case == "hs256":
        # The classic confusion: the public key used as an HMAC secret (made by hand, since
        # joserfc itself refuses to build such a key).
        head = _b64(json.dumps({"alg": "HS256", "kid": dev_key.kid}).encode())
        signing_input = f"{head}.{_b64(json.dumps(good).encode())}"
        mac = hmac.new(dev_key.as_pem(private=False), signing_input.encode(), hashlib.sha256)
        token = f"{signing_input}.{_b64(mac.digest())}"
    elif case == "none":
        unsigned = _b64(json.dumps({"alg": "none"}).encode())
        token = f"{unsigned}.{_b64(json.dumps(good).encode())}."
    elif case == "iss":
        token = _sign(_claims(eid_settings, "https://impostor.example"), dev_key)
    elif case == "aud":
        token = _sign(_claims(eid_settings, issuer, aud="another-portal"), dev_key)
    elif case == "exp":
        past = int(time.time()) - 3600
        token = _sign(_claims(eid_settings, issuer, iat=past - 300, exp=past), dev_key)
    elif case == "nonce":
        token = _sign(_claims(eid_settings, issuer, nonce="another-nonce"), dev_key)
    elif case == "no_nonce":
        token = _sign(_claims(eid_settings, issuer, nonce=None), dev_key)
    elif case == "at_hash":
        token = _sign(_claims(eid_settings, issuer, at_hash="AAAAAAAAAAAAAAAAAAAAAA"), dev_key)
        access_token = "the-access-token-it-came-with"
    else:
        token = "not.a.jwt"
    with pytest.raises(oidc.EidLoginError) as caught:
        _verify(eid_settings, token, access_token)
    assert caught.value.code == code
    assert caught.value.status == 502
    assert reason in str(caught.value.params["reason"])


# --- never in production -------------------------------------------------------------------


def test_the_development_provider_refuses_production(settings: Settings) -> None:
    env = {**os.environ, "CITYHALL_ENVIRONMENT": "production"}
    done = subprocess.run(
        [sys.executable, "-m", "cityhall", "eid", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "không chạy trong môi trường production" in done.stdout
    from cityhall.identity.eid.api import create_app as provider_app

    with pytest.raises(RuntimeError, match="never runs in production"):
        provider_app(settings.model_copy(update={"environment": "production"}))


def test_production_needs_a_configured_client_secret(tmp_path: Path) -> None:
    prod = Settings(environment="production", data_dir=tmp_path, secret_key="k" * 40)
    with pytest.raises(RuntimeError, match="CITYHALL_EID_CLIENT_SECRET"):
        prod.resolved_eid_client_secret()
    assert not (tmp_path / "eid-client-secret").exists()


@pytest.mark.parametrize(
    ("issuer", "code"),
    [
        ("http://vneid.example", "eid-insecure-issuer"),
        ("https://vneid.example", "eid-no-client-secret"),
    ],
)
def test_production_misconfiguration_is_a_clear_page(
    settings: Settings, factory: sessionmaker[Session], issuer: str, code: str
) -> None:
    prod = settings.model_copy(
        update={"environment": "production", "eid_issuer": issuer, "eid_client_secret": None}
    )
    with _portal(prod, factory) as c:
        r = c.get(LOGIN, follow_redirects=False)
    assert r.status_code == 503
    assert f"<code>{code}</code>" in r.text
