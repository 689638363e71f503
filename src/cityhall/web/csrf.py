"""CSRF protection for HTML forms: a signed double-submit token.

The token lives in a cookie (signed, so a sibling sub-domain cannot plant one) and is echoed
in each form as ``csrf_token``; a POST whose field does not match its cookie is refused.
Together with SameSite=Lax cookies and the Origin check in the edge middleware.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from cityhall.errors import Forbidden

CSRF_COOKIE = "ch_csrf"
CSRF_FIELD = "csrf_token"


def _signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.resolved_secret_key(), salt="csrf")


def _cookie_token(request: Request) -> str | None:
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(request).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def csrf_token(request: Request) -> str:
    """The token to put in forms (reusing the cookie's, or a new one set on the response)."""
    existing = _cookie_token(request) or request.scope.get("cityhall.csrf")
    if isinstance(existing, str):
        return existing
    token = secrets.token_urlsafe(32)
    request.scope["cityhall.csrf"] = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = request.scope.get("cityhall.csrf")
    if isinstance(token, str):
        response.set_cookie(
            CSRF_COOKIE,
            _signer(request).dumps(token),
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
            path="/",
        )


def verify_csrf(request: Request, submitted: str | None) -> None:
    expected = _cookie_token(request)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("Phiên biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.")
