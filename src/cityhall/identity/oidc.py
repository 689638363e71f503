"""The portal as an OpenID Connect client of the national e-ID (VNeID).

Authorization code flow with PKCE S256, built on Authlib's protocol pieces (authorization
URL, token request, client authentication, ID token claims) and joserfc (Authlib's JOSE
library) for the RS256 signature, over plain httpx. Knows nothing of FastAPI: the routes in
``citizen_pages`` keep the pending login in a cookie and call ``begin_login`` and
``complete_login``. The provider is configured by ``CITYHALL_EID_*``; see
docs/domains/identity-eid.md.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.auth import ClientAuth  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import (  # type: ignore[import-untyped]
    prepare_grant_uri,
    prepare_token_request,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet

from cityhall.config import Settings
from cityhall.core.i18n import N_
from cityhall.identity.service import pin_problems

log = logging.getLogger(__name__)

CALLBACK_PATH = "/dang-nhap-cong-dan/callback"
ALGORITHMS = ("RS256",)
METADATA_TTL = 3600.0  # discovery document and keys are re-read at most hourly
CLOCK_LEEWAY = 60  # seconds of clock skew tolerated on exp/iat
_UNIT_CODE = re.compile(r"^\d{5}$")


def redirect_uri(settings: Settings) -> str:
    """The callback registered with the provider (from the public base URL, never from a
    request's Host header)."""
    return settings.base_url.rstrip("/") + CALLBACK_PATH


class EidLoginError(Exception):
    """A login that cannot go on. ``message`` is a Vietnamese gettext id shown to the
    citizen; ``code`` a short reason for support and logs; ``status`` the page's status:
    4xx when the request was wrong or refused, 502 when the provider failed."""

    def __init__(
        self, message: str, *, code: str, status: int, detail: str = "", **params: Any
    ) -> None:
        self.message = message
        self.code = code
        self.status = status
        self.detail = detail  # the provider's own words, if any (technical, not translated)
        self.params = params
        super().__init__(f"{code}: {message.format(**params) if params else message}")


UNAVAILABLE = N_("Không kết nối được với hệ thống định danh điện tử VNeID. Vui lòng thử lại sau.")
BAD_RESPONSE = N_("Hệ thống định danh điện tử VNeID trả lời không hợp lệ. Vui lòng thử lại sau.")
NOT_CONFIGURED = N_("Đăng nhập bằng VNeID chưa được cấu hình trên hệ thống này.")
NOT_VERIFIED = N_("Không xác minh được thông tin đăng nhập từ VNeID: {reason}")

# Why an ID token was refused, by claim (shown after NOT_VERIFIED).
_CLAIM_REASONS = {
    "iss": N_("ID token không do nhà cung cấp đã cấu hình phát hành (iss)."),
    "aud": N_("ID token không cấp cho cổng dịch vụ này (aud)."),
    "azp": N_("ID token không cấp cho cổng dịch vụ này (azp)."),
    "exp": N_("ID token đã hết hạn (exp)."),
    "iat": N_("Thời điểm phát hành ID token không hợp lệ (iat)."),
    "nbf": N_("ID token chưa đến thời điểm có hiệu lực (nbf)."),
    "nonce": N_("Mã nonce trong ID token không khớp với yêu cầu đăng nhập."),
    "at_hash": N_("ID token không khớp với mã truy cập (at_hash)."),
    "sub": N_("ID token thiếu định danh người dùng (sub)."),
}
_BAD_SIGNATURE = N_("Chữ ký của ID token không hợp lệ.")
_BAD_ALGORITHM = N_("ID token không được ký bằng thuật toán RS256.")
_UNKNOWN_KEY = N_("ID token được ký bằng khóa không có trong JWKS của nhà cung cấp.")
_MALFORMED = N_("ID token không đúng định dạng JWT.")


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    token_auth_methods: tuple[str, ...]

    @property
    def token_auth_method(self) -> str:
        """``client_secret_basic`` unless the provider takes only ``client_secret_post``."""
        if "client_secret_basic" in self.token_auth_methods or not self.token_auth_methods:
            return "client_secret_basic"
        if "client_secret_post" in self.token_auth_methods:
            return "client_secret_post"
        return "client_secret_basic"


@dataclass(frozen=True)
class PendingLogin:
    """What the callback must check, kept by the browser in a signed short-lived cookie."""

    state: str
    nonce: str
    code_verifier: str
    next_url: str
    issuer: str

    def dump(self) -> dict[str, str]:
        return {
            "s": self.state,
            "n": self.nonce,
            "v": self.code_verifier,
            "next": self.next_url,
            "i": self.issuer,
        }

    @classmethod
    def load(cls, data: object) -> PendingLogin | None:
        if not isinstance(data, dict):
            return None
        values = [data.get(k) for k in ("s", "n", "v", "next", "i")]
        if not all(isinstance(v, str) and v for v in values):
            return None
        state, nonce, verifier, next_url, issuer = (str(v) for v in values)
        return cls(state, nonce, verifier, next_url, issuer)


@dataclass(frozen=True)
class EidAddress:
    street: str
    unit_code: str  # the current ward or commune (5 digits)


@dataclass(frozen=True)
class EidIdentity:
    """Who logged in, as the provider asserted it."""

    pin: str
    full_name: str
    birth_date: date | None
    address: EidAddress | None
    subject: str
    claims: dict[str, Any] = field(repr=False, default_factory=dict)


# --- discovery and keys (cached per issuer) ------------------------------------------------

_lock = threading.Lock()
_metadata: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks: dict[str, tuple[float, dict[str, Any]]] = {}


def clear_cache() -> None:
    with _lock:
        _metadata.clear()
        _jwks.clear()


def _client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.eid_timeout_seconds,
        follow_redirects=False,
        headers={"Accept": "application/json", "User-Agent": "cityhall-portal"},
    )


def _get_json(settings: Settings, url: str) -> dict[str, Any]:
    try:
        with _client(settings) as http:
            response = http.get(url)
    except httpx.HTTPError as exc:
        log.warning("e-ID provider unreachable: %s (%s)", url, exc)
        raise EidLoginError(UNAVAILABLE, code="eid-unavailable", status=502) from exc
    if response.status_code != 200:
        log.warning("e-ID provider answered %s for %s", response.status_code, url)
        raise EidLoginError(UNAVAILABLE, code="eid-unavailable", status=502)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise EidLoginError(BAD_RESPONSE, code="eid-bad-response", status=502)
    return body


def discover(settings: Settings) -> ProviderMetadata:
    """The provider's metadata from ``<issuer>/.well-known/openid-configuration``, checked
    (its ``issuer`` must be the configured one: OpenID Connect Discovery 1.0, 4.3)."""
    issuer = settings.eid_issuer.rstrip("/")
    now = time.monotonic()
    with _lock:
        cached = _metadata.get(issuer)
    if cached and now - cached[0] < METADATA_TTL:
        return cached[1]
    doc = _get_json(settings, f"{issuer}/.well-known/openid-configuration")
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = doc.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            log.warning("e-ID discovery document lacks %s", name)
            raise EidLoginError(BAD_RESPONSE, code="eid-bad-discovery", status=502)
        endpoints[name] = value
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        log.warning("e-ID discovery issuer %r is not %r", doc.get("issuer"), issuer)
        raise EidLoginError(BAD_RESPONSE, code="eid-issuer-mismatch", status=502)
    methods = doc.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise EidLoginError(BAD_RESPONSE, code="eid-no-pkce", status=502)
    auth_methods = doc.get("token_endpoint_auth_methods_supported")
    userinfo = doc.get("userinfo_endpoint")
    metadata = ProviderMetadata(
        issuer=issuer,
        userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
        token_auth_methods=tuple(m for m in auth_methods if isinstance(m, str))
        if isinstance(auth_methods, list)
        else (),
        **endpoints,
    )
    with _lock:
        _metadata[issuer] = (now, metadata)
    return metadata


def _key_set(settings: Settings, metadata: ProviderMetadata, *, refresh: bool) -> KeySet:
    now = time.monotonic()
    with _lock:
        cached = _jwks.get(metadata.jwks_uri)
    if refresh or not cached or now - cached[0] >= METADATA_TTL:
        document = _get_json(settings, metadata.jwks_uri)
        with _lock:
            _jwks[metadata.jwks_uri] = (now, document)
    else:
        document = cached[1]
    try:
        return KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise EidLoginError(BAD_RESPONSE, code="eid-bad-jwks", status=502) from exc


# --- the flow -------------------------------------------------------------------------------


def _client_secret(settings: Settings) -> str:
    try:
        return settings.resolved_eid_client_secret()
    except RuntimeError:  # production without CITYHALL_EID_CLIENT_SECRET
        log.error("CITYHALL_EID_CLIENT_SECRET is not set: citizen login is unavailable")
        raise EidLoginError(NOT_CONFIGURED, code="eid-no-client-secret", status=503) from None


def begin_login(settings: Settings, *, next_url: str) -> tuple[str, PendingLogin]:
    """The provider's authorization URL to send the browser to, and what to remember."""
    if settings.environment == "production" and not settings.eid_issuer.startswith("https://"):
        raise EidLoginError(
            N_("Đăng nhập bằng VNeID chưa được cấu hình đúng (cần địa chỉ HTTPS)."),
            code="eid-insecure-issuer",
            status=503,
        )
    if "openid" not in settings.eid_scopes.split():
        raise EidLoginError(NOT_CONFIGURED, code="eid-no-openid-scope", status=503)
    _client_secret(settings)  # fail before sending anyone to the provider
    metadata = discover(settings)
    pending = PendingLogin(
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        next_url=next_url,
        issuer=metadata.issuer,
    )
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=settings.eid_client_id,
        response_type="code",
        redirect_uri=redirect_uri(settings),
        scope=settings.eid_scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return str(url), pending


def complete_login(
    settings: Settings, *, pending: PendingLogin, code: str, iss: str | None = None
) -> EidIdentity:
    """Redeem the code (with the PKCE verifier), verify the ID token, read the claims.

    State has been checked by the caller; ``iss`` is the authorization response's issuer
    parameter (RFC 9207), compared when the provider sends it (mix-up defence)."""
    metadata = discover(settings)
    if metadata.issuer != pending.issuer or (iss is not None and iss.rstrip("/") != pending.issuer):
        raise EidLoginError(
            N_("Phản hồi đăng nhập đến từ một nhà cung cấp khác với nơi đã gửi yêu cầu."),
            code="eid-issuer-mismatch",
            status=400,
        )
    tokens = _redeem(settings, metadata, pending=pending, code=code)
    id_token = tokens.get("id_token")
    access_token = tokens.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise EidLoginError(BAD_RESPONSE, code="eid-no-id-token", status=502)
    claims = verify_id_token(
        settings, metadata, id_token, nonce=pending.nonce, access_token=access_token
    )
    needed = ("name", settings.eid_pin_claim)
    if metadata.userinfo_endpoint and any(claims.get(c) in (None, "") for c in needed):
        claims = {**_userinfo(settings, metadata, access_token, claims["sub"]), **claims}
    return identity_from_claims(settings, claims)


def _redeem(
    settings: Settings, metadata: ProviderMetadata, *, pending: PendingLogin, code: str
) -> dict[str, Any]:
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=redirect_uri(settings),
        code_verifier=pending.code_verifier,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    auth = ClientAuth(settings.eid_client_id, _client_secret(settings), metadata.token_auth_method)
    url, headers, body = auth.prepare("POST", metadata.token_endpoint, headers, body)
    try:
        with _client(settings) as http:
            response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("e-ID token endpoint unreachable: %s", exc)
        raise EidLoginError(UNAVAILABLE, code="eid-unavailable", status=502) from exc
    try:
        tokens = response.json()
    except ValueError:
        tokens = None
    if not isinstance(tokens, dict):
        raise EidLoginError(BAD_RESPONSE, code="eid-bad-response", status=502)
    if response.status_code != 200 or "error" in tokens:
        error = str(tokens.get("error", "server_error"))
        description = str(tokens.get("error_description", ""))[:300]
        log.warning("e-ID token endpoint refused the code: %s %s", error, description)
        if error == "invalid_grant":
            # The code is unknown, used, expired, or not ours (RFC 6749 5.2): the citizen
            # can simply start again.
            raise EidLoginError(
                N_(
                    "Mã đăng nhập không còn hiệu lực (đã dùng, đã hết hạn hoặc không khớp). "
                    "Vui lòng đăng nhập lại."
                ),
                code="eid-invalid-grant",
                status=400,
                detail=description,
            )
        raise EidLoginError(BAD_RESPONSE, code=f"eid-token-{error}"[:60], status=502)
    return tokens


def verify_id_token(
    settings: Settings,
    metadata: ProviderMetadata,
    id_token: str,
    *,
    nonce: str,
    access_token: str | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """The ID token's claims once its RS256 signature (a key of the provider's JWKS), issuer,
    audience, expiry, nonce and ``at_hash`` are checked (OpenID Connect Core 3.1.3.7)."""

    def refuse(reason: str, code: str) -> EidLoginError:
        log.warning("e-ID ID token refused: %s", code)
        return EidLoginError(NOT_VERIFIED, code=code, status=502, reason=reason)

    token = None
    for refresh in (False, True):  # an unknown kid: the provider may have rotated its keys
        try:
            token = jwt.decode(id_token, _key_set(settings, metadata, refresh=refresh), ALGORITHMS)
            break
        except InvalidKeyIdError:
            if refresh:
                raise refuse(_UNKNOWN_KEY, "id-token-unknown-key") from None
        except UnsupportedAlgorithmError:
            raise refuse(_BAD_ALGORITHM, "id-token-algorithm") from None
        except BadSignatureError:
            raise refuse(_BAD_SIGNATURE, "id-token-signature") from None
        except (DecodeError, JoseError, ValueError, TypeError):
            raise refuse(_MALFORMED, "id-token-malformed") from None
    assert token is not None
    if token.header.get("alg") not in ALGORITHMS:
        raise refuse(_BAD_ALGORITHM, "id-token-algorithm")
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": metadata.issuer},
            "aud": {"essential": True, "value": settings.eid_client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True},
        },
        {"nonce": nonce, "client_id": settings.eid_client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=now, leeway=CLOCK_LEEWAY)
    except ExpiredTokenError:
        raise refuse(_CLAIM_REASONS["exp"], "id-token-exp") from None
    except (InvalidClaimError, MissingClaimError) as exc:
        name = str(getattr(exc, "claim", "") or "").split(",")[0]
        reason = _CLAIM_REASONS.get(name, _MALFORMED)
        raise refuse(reason, f"id-token-{name or 'claims'}") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise refuse(_CLAIM_REASONS["sub"], "id-token-sub")
    return dict(claims)


def _userinfo(
    settings: Settings, metadata: ProviderMetadata, access_token: str, subject: str
) -> dict[str, Any]:
    assert metadata.userinfo_endpoint
    try:
        with _client(settings) as http:
            response = http.get(
                metadata.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
            )
        info = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise EidLoginError(UNAVAILABLE, code="eid-unavailable", status=502) from exc
    # The userinfo subject must be the ID token's (OpenID Connect Core 5.3.2).
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise EidLoginError(BAD_RESPONSE, code="eid-bad-userinfo", status=502)
    return info


def identity_from_claims(settings: Settings, claims: dict[str, Any]) -> EidIdentity:
    """The citizen the claims describe: number, name, birth date and current address."""
    pin = claims.get(settings.eid_pin_claim)
    if not isinstance(pin, str) or pin_problems(pin):
        raise EidLoginError(
            N_("VNeID không cung cấp số định danh cá nhân hợp lệ (12 chữ số)."),
            code="eid-claim-pin",
            status=502,
        )
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise EidLoginError(
            N_("VNeID không cung cấp họ và tên của công dân."),
            code="eid-claim-name",
            status=502,
        )
    return EidIdentity(
        pin=pin,
        full_name=" ".join(name.split()),
        birth_date=_birth_date(claims.get("birthdate")),
        address=_address(claims.get("address")),
        subject=str(claims["sub"]),
        claims=claims,
    )


def _birth_date(value: object) -> date | None:
    """``YYYY-MM-DD`` (OpenID Connect allows a year alone, or ``0000`` for no year: those
    do not make a date)."""
    if not isinstance(value, str):
        return None
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return None
    return born if born.year > 1 else None


def _address(value: object) -> EidAddress | None:
    """The ``address`` claim: ``street_address`` and the current unit's 5-digit
    ``unit_code`` (an extension member; the standard members are kept in ``claims``)."""
    if not isinstance(value, dict):
        return None
    street = value.get("street_address")
    unit_code = value.get("unit_code")
    if not isinstance(street, str) or not isinstance(unit_code, str):
        return None
    street = " ".join(street.split())
    if not street or len(street) > 300 or not _UNIT_CODE.match(unit_code):
        return None
    return EidAddress(street=street, unit_code=unit_code)
