"""The protocol of the development e-ID provider, free of any web framework.

OpenID Connect Core 1.0, authorization code flow only, with PKCE S256 required (RFC 7636),
client authentication ``client_secret_basic`` or ``client_secret_post``, ID tokens signed
RS256 and the ``iss`` authorization response parameter (RFC 9207). Codes and access tokens
live in memory (one process): it is a development tool.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from cityhall.core.i18n import N_
from cityhall.identity.eid.citizens import BY_PIN, DemoCitizen

SCOPES = ("openid", "profile", "address", "phone", "pin")
CLAIMS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "profile": ("name", "birthdate", "gender"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    "pin": ("pin",),
}
# RFC 7636 section 4.1: 43 to 128 characters of the unreserved set.
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_MAX_PARAM = 512
KEY_FILE = "eid-dev-key.pem"


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str = "Cổng dịch vụ công TP. Hồ Chí Minh"


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (RFC 6749 4.1.1 + OIDC Core 3.1.2.1)."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str

    def as_form(self) -> dict[str, str]:
        """The request as the parameters that carried it (hidden fields of the page)."""
        values = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        if self.state is not None:
            values["state"] = self.state
        if self.nonce is not None:
            values["nonce"] = self.nonce
        return values


class ProviderError(Exception):
    """An authorization request that cannot be answered by redirecting (unknown client or
    redirect URI): shown on the provider's own page. ``message`` is a gettext id."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class AuthorizationError(Exception):
    """Sent back to the client's redirect URI as ``error`` (RFC 6749 4.1.2.1)."""

    def __init__(
        self, error: str, description: str, *, redirect_uri: str, state: str | None
    ) -> None:
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        super().__init__(f"{error}: {description}")


class TokenError(Exception):
    """An error of the token or userinfo endpoint (RFC 6749 5.2, RFC 6750 3.1)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(f"{error}: {description}")

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Grant:
    request: AuthorizationRequest
    pin: str
    auth_time: int
    expires_at: float


@dataclass
class _AccessToken:
    pin: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _half_hash(value: str) -> str:
    """``at_hash`` for RS256: the left half of SHA-256, base64url (OIDC Core 3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def load_or_create_key(data_dir: Path) -> RSAKey:
    """The signing key in ``<data_dir>/eid-dev-key.pem`` (mode 0600), generated on first
    start. Never part of the repository; deleting the file rotates the key."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, private=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.as_pem(private=True))
        try:
            os.link(tmp, path)  # atomic; loses to a process that was faster
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    pem = path.read_bytes()
    key = RSAKey.import_key(pem)
    return RSAKey.import_key(pem, {"kid": key.thumbprint(), "use": "sig", "alg": "RS256"})


class Provider:
    def __init__(
        self,
        *,
        issuer: str,
        key: RSAKey,
        clients: list[Client],
        code_ttl: float = 60.0,
        token_ttl: int = 300,
        citizens: Mapping[str, DemoCitizen] = BY_PIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.key = key
        self.clients = {c.client_id: c for c in clients}
        self.code_ttl = code_ttl
        self.token_ttl = token_ttl
        self.citizens = citizens
        self.clock = clock
        self._codes: dict[str, _Grant] = {}
        # Redeemed codes -> the access token they gave: a replay revokes it (RFC 6749 4.1.2).
        self._redeemed: dict[str, tuple[str, float]] = {}
        self._tokens: dict[str, _AccessToken] = {}
        self._pairwise_salt = hashlib.sha256(key.as_pem(private=True)).digest()

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    # --- documents --------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """OpenID Provider Metadata (OpenID Connect Discovery 1.0, section 3)."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                *(c for claims in CLAIMS_BY_SCOPE.values() for c in claims),
            ],
            "authorization_response_iss_parameter_supported": True,
            "ui_locales_supported": ["vi", "en"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # --- authorization endpoint -------------------------------------------------------

    def client_for(self, client_id: str | None, redirect_uri: str | None) -> Client:
        """The client, if ``redirect_uri`` is one it registered: only then may errors be
        redirected to it (RFC 6749 4.1.2.1; never an open redirector)."""
        client = self.clients.get(client_id or "")
        if client is None:
            raise ProviderError(N_("Ứng dụng yêu cầu đăng nhập (client_id) chưa được đăng ký."))
        if not redirect_uri or redirect_uri not in client.redirect_uris:
            raise ProviderError(
                N_("Địa chỉ chuyển về (redirect_uri) không khớp với địa chỉ ứng dụng đã đăng ký.")
            )
        return client

    def validate_authorization(self, params: Mapping[str, str]) -> AuthorizationRequest:
        client = self.client_for(params.get("client_id"), params.get("redirect_uri"))
        redirect_uri = params["redirect_uri"]
        state = params.get("state")

        def fail(error: str, description: str) -> AuthorizationError:
            return AuthorizationError(error, description, redirect_uri=redirect_uri, state=state)

        if state is not None and len(state) > _MAX_PARAM:
            raise fail("invalid_request", "state is too long")
        nonce = params.get("nonce")
        if nonce is not None and len(nonce) > _MAX_PARAM:
            raise fail("invalid_request", "nonce is too long")
        if params.get("response_type") != "code":
            raise fail("unsupported_response_type", "only response_type=code is supported")
        requested = (params.get("scope") or "").split()
        if "openid" not in requested:
            raise fail("invalid_scope", "the openid scope is required")
        challenge = params.get("code_challenge")
        if not challenge:
            raise fail("invalid_request", "code_challenge is required (PKCE)")
        if params.get("code_challenge_method") != "S256":
            raise fail("invalid_request", "code_challenge_method must be S256")
        if not _PKCE_VALUE.match(challenge):
            raise fail("invalid_request", "code_challenge is malformed")
        scopes = tuple(s for s in SCOPES if s in requested)
        return AuthorizationRequest(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=state,
            nonce=nonce,
            code_challenge=challenge,
        )

    def issue_code(self, request: AuthorizationRequest, pin: str) -> str:
        if pin not in self.citizens:
            raise ProviderError(N_("Vui lòng chọn một công dân trong danh sách."))
        now = self.clock()
        self._purge(now)
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Grant(request, pin, int(now), now + self.code_ttl)
        return code

    # --- token endpoint ---------------------------------------------------------------

    def authenticate_client(
        self, form: Mapping[str, str], authorization: str | None
    ) -> tuple[Client, str]:
        """``client_secret_basic`` or ``client_secret_post`` (never both): (client, method)."""
        basic = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                raise TokenError("invalid_client", "malformed Basic credentials", 401) from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise TokenError("invalid_client", "malformed Basic credentials", 401)
            basic = (unquote(user), unquote(password))
        posted = form.get("client_secret")
        if basic and posted is not None:
            raise TokenError("invalid_request", "use one client authentication method only")
        if basic:
            client_id, secret, method = basic[0], basic[1], "client_secret_basic"
        elif posted is not None:
            client_id, secret, method = form.get("client_id", ""), posted, "client_secret_post"
        else:
            raise TokenError("invalid_client", "client authentication is required", 401)
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(
            client.client_secret.encode(), secret.encode()
        ):
            raise TokenError("invalid_client", "unknown client or wrong client secret", 401)
        if form.get("client_id") not in (None, client_id):
            raise TokenError("invalid_request", "client_id does not match the credentials")
        return client, method

    def exchange(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """Redeem an authorization code for an ID token and an access token."""
        client, _method = self.authenticate_client(form, authorization)
        if form.get("grant_type") != "authorization_code":
            raise TokenError("unsupported_grant_type", "only authorization_code is supported")
        code = form.get("code") or ""
        now = self.clock()
        grant = self._codes.pop(code, None)  # one-time: gone whatever happens next
        if grant is None:
            redeemed = self._redeemed.pop(code, None)
            if redeemed is not None:
                self._tokens.pop(redeemed[0], None)
                raise TokenError(
                    "invalid_grant",
                    "authorization code was already used; the tokens it gave are revoked",
                )
            raise TokenError("invalid_grant", "authorization code is unknown")
        request = grant.request
        if now >= grant.expires_at:
            raise TokenError("invalid_grant", "authorization code has expired")
        if request.client_id != client.client_id:
            raise TokenError("invalid_grant", "authorization code was issued to another client")
        if form.get("redirect_uri") != request.redirect_uri:
            raise TokenError(
                "invalid_grant", "redirect_uri does not match the authorization request"
            )
        verifier = form.get("code_verifier") or ""
        if not verifier:
            raise TokenError("invalid_grant", "code_verifier is required (PKCE)")
        if not _PKCE_VALUE.match(verifier):
            raise TokenError("invalid_grant", "code_verifier is malformed")
        if not hmac.compare_digest(s256(verifier), request.code_challenge):
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")

        access_token = secrets.token_urlsafe(32)
        self._tokens[access_token] = _AccessToken(
            grant.pin, client.client_id, request.scopes, now + self.token_ttl
        )
        self._redeemed[code] = (access_token, now + max(self.code_ttl, 60) * 10)
        id_claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject(client.client_id, grant.pin),
            "aud": client.client_id,
            "iat": int(now),
            "exp": int(now) + self.token_ttl,
            "auth_time": grant.auth_time,
            "at_hash": _half_hash(access_token),
            **self.claims(grant.pin, request.scopes),
        }
        if request.nonce is not None:
            id_claims["nonce"] = request.nonce
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": " ".join(request.scopes),
            "id_token": jwt.encode(header, id_claims, self.key, algorithms=["RS256"]),
        }

    # --- userinfo endpoint ------------------------------------------------------------

    def userinfo(self, access_token: str | None) -> dict[str, Any]:
        now = self.clock()
        token = self._tokens.get(access_token or "")
        if token is None or now >= token.expires_at:
            raise TokenError("invalid_token", "the access token is unknown or expired", 401)
        return {
            "sub": self.subject(token.client_id, token.pin),
            **self.claims(token.pin, token.scopes),
        }

    # --- claims -----------------------------------------------------------------------

    def subject(self, client_id: str, pin: str) -> str:
        """A pairwise subject: stable for one client, unlinkable across clients, and not the
        identification number (which is released only with the ``pin`` scope)."""
        mac = hmac.new(self._pairwise_salt, f"{client_id}\n{pin}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode("ascii")

    def claims(self, pin: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        citizen = self.citizens[pin]
        out: dict[str, Any] = {}
        if "profile" in scopes:
            out["name"] = citizen.full_name
            out["birthdate"] = citizen.birth_date.isoformat()
            out["gender"] = citizen.gender
        if "address" in scopes:
            address = citizen.address
            out["address"] = {
                "formatted": address.formatted,
                "street_address": address.street,
                "locality": address.unit_name,
                "region": address.province,
                "country": "VN",
                "unit_code": address.unit_code,
            }
        if "phone" in scopes:
            out["phone_number"] = citizen.phone
            out["phone_number_verified"] = True
        if "pin" in scopes:
            out["pin"] = citizen.pin
        return out

    def _purge(self, now: float) -> None:
        # Expired codes are kept a while, so that redeeming one says "expired", not "unknown".
        for code in [c for c, g in self._codes.items() if g.expires_at + 600 <= now]:
            del self._codes[code]
        for code in [c for c, (_, until) in self._redeemed.items() if until <= now]:
            del self._redeemed[code]
        for token in [t for t, a in self._tokens.items() if a.expires_at <= now]:
            del self._tokens[token]
