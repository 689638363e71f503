"""Citizens' login with the national e-ID (VNeID, OpenID Connect) and their log-out.

``GET /dang-nhap-cong-dan`` starts: the PKCE verifier, state and nonce go into a signed,
HttpOnly cookie that lives ten minutes and is sent only to these paths; the browser goes to
the provider. ``GET /dang-nhap-cong-dan/callback`` finishes: state checked, code redeemed,
ID token verified (``cityhall.identity.oidc``), the citizen brought up to date and a browser
session opened with the same cookie officials use. Every failure is a page that says what
went wrong and offers to try again (4xx, or 502 when the provider failed), never a 500.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from cityhall.config import Settings
from cityhall.core.actors import ActorKind
from cityhall.core.i18n import N_, translate
from cityhall.identity import oidc, service
from cityhall.identity.oidc import EidLoginError, PendingLogin
from cityhall.web.auth import SESSION_COOKIE, PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

LOGIN_PATH = "/dang-nhap-cong-dan"
LOGIN_COOKIE = "ch_eid_login"
LOGIN_TTL_SECONDS = 600
DEFAULT_NEXT = "/ho-so-cua-toi"
LOGIN_METHOD = "vneid-oidc"


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return DEFAULT_NEXT


def _signer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolved_secret_key(), salt="eid-login")


def _pending(request: Request, settings: Settings) -> PendingLogin | None:
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw:
        return None
    try:
        data = _signer(settings).loads(raw, max_age=LOGIN_TTL_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    return PendingLogin.load(data)


def _failure(request: Request, error: EidLoginError, next_url: str) -> Response:
    locale = request_locale(request)
    log.warning("citizen e-ID login failed: %s", error.code)
    response = render(
        request,
        "identity/citizen_login_error.html",
        {
            "actor": None,
            "message": translate(
                error.message,
                locale,
                **{
                    k: translate(v, locale) if isinstance(v, str) else v
                    for k, v in error.params.items()
                },
            ),
            "code": error.code,
            "detail": error.detail,
            "retry_url": LOGIN_PATH
            if next_url == DEFAULT_NEXT
            else f"{LOGIN_PATH}?next={quote(next_url, safe='/')}",
        },
        status_code=error.status,
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


@router.get(LOGIN_PATH)
def citizen_login(
    request: Request, actor: PageActor, settings: AppSettings, next: str | None = None
) -> Response:
    next_url = _safe_next(next)
    if actor.kind is ActorKind.CITIZEN:
        return RedirectResponse(next_url, status_code=303)
    try:
        url, pending = oidc.begin_login(settings, next_url=next_url)
    except EidLoginError as exc:
        return _failure(request, exc, next_url)
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        LOGIN_COOKIE,
        _signer(settings).dumps(pending.dump()),
        max_age=LOGIN_TTL_SECONDS,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to us
        secure=settings.cookie_secure,
        path=LOGIN_PATH,
    )
    return response


@router.get(LOGIN_PATH + "/callback")
def citizen_callback(request: Request, session: DbSession, settings: AppSettings) -> Response:
    params = request.query_params
    pending = _pending(request, settings)
    if pending is None:
        return _failure(
            request,
            EidLoginError(
                N_(
                    "Yêu cầu đăng nhập đã hết hạn hoặc không được bắt đầu từ trình duyệt này. "
                    "Vui lòng đăng nhập lại."
                ),
                code="eid-no-login-in-progress",
                status=400,
            ),
            DEFAULT_NEXT,
        )
    next_url = _safe_next(pending.next_url)
    state = params.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        return _failure(
            request,
            EidLoginError(
                N_(
                    "Phản hồi đăng nhập không khớp với yêu cầu đã gửi (state). "
                    "Vì an toàn, yêu cầu này bị từ chối."
                ),
                code="eid-state-mismatch",
                status=400,
            ),
            next_url,
        )
    error = params.get("error")
    if error == "access_denied":
        return _failure(
            request,
            EidLoginError(
                N_(
                    "Bạn đã từ chối chia sẻ thông tin định danh, nên chưa thể đăng nhập. "
                    "Bạn có thể thử lại bất cứ lúc nào."
                ),
                code="eid-access-denied",
                status=403,
            ),
            next_url,
        )
    if error:
        return _failure(
            request,
            EidLoginError(
                N_("VNeID không chấp nhận yêu cầu đăng nhập (mã lỗi: {error})."),
                code="eid-authorization-error",
                status=400,
                detail=(params.get("error_description") or "")[:300],
                error=error[:60],
            ),
            next_url,
        )
    code = params.get("code")
    if not code:
        return _failure(
            request,
            EidLoginError(
                N_("Phản hồi đăng nhập thiếu mã cấp quyền (code)."),
                code="eid-no-code",
                status=400,
            ),
            next_url,
        )
    try:
        identity = oidc.complete_login(settings, pending=pending, code=code, iss=params.get("iss"))
    except EidLoginError as exc:
        return _failure(request, exc, next_url)

    _end_previous_session(request, session)
    citizen = service.record_eid_identity(
        session,
        pin=identity.pin,
        full_name=identity.full_name,
        birth_date=identity.birth_date,
        street=identity.address.street if identity.address else None,
        unit_code=identity.address.unit_code if identity.address else None,
        method=LOGIN_METHOD,
    )
    _, token = service.open_citizen_session(
        session,
        citizen=citizen,
        kind="browser",
        settings=settings,
        method=LOGIN_METHOD,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(next_url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


def _end_previous_session(request: Request, session: DbSession) -> None:
    """A new login replaces the browser's session: the old one is revoked, not left live."""
    old = request.cookies.get(SESSION_COOKIE)
    if not old:
        return
    previous = service.actor_for_token(session, old, kind="browser")
    if previous is None:
        return
    if previous.kind is ActorKind.CITIZEN:
        service.end_citizen_session(session, actor=previous)
    elif previous.kind is ActorKind.OFFICIAL:
        service.logout(session, actor=previous)


@router.post("/dang-xuat-cong-dan")
async def citizen_logout(request: Request, actor: PageActor, session: DbSession) -> Response:
    form = await request.form()
    token = form.get(CSRF_FIELD)
    verify_csrf(request, token if isinstance(token, str) else None)
    if actor.kind is ActorKind.CITIZEN:
        service.end_citizen_session(session, actor=actor)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
