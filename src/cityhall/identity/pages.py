"""Officials' pages: log in, the account page (roles, sessions), log out."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cityhall.core.actors import ActorKind, Role
from cityhall.core.i18n import N_, translate
from cityhall.identity import service
from cityhall.web.auth import SESSION_COOKIE, PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

ROLE_NAMES = {
    Role.INTAKE_OFFICER.value: N_("Cán bộ tiếp nhận"),
    Role.HANDLER.value: N_("Cán bộ thụ lý"),
    Role.APPROVER.value: N_("Lãnh đạo phê duyệt"),
    Role.ADMIN.value: N_("Quản trị hệ thống"),
    Role.OPERATIONS_VIEWER.value: N_("Theo dõi điều hành"),
}


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/tai-khoan"


@router.get("/dang-nhap")
def login_form(request: Request, actor: PageActor, next: str | None = None) -> Response:
    if actor.kind is ActorKind.OFFICIAL:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "identity/login.html", {"actor": actor, "next_url": _safe_next(next)})


@router.post("/dang-nhap")
async def login_submit(request: Request, session: DbSession, settings: AppSettings) -> Response:
    form = await request.form()
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    username = _str(form.get("username")).strip()
    password = _str(form.get("password"))
    totp = _str(form.get("totp")).strip() or None
    next_url = _safe_next(_str(form.get("next")))
    locale = request_locale(request)
    context = {"actor": None, "next_url": next_url, "username": username}
    if not username or not password:
        context["error"] = translate("Vui lòng nhập tên đăng nhập và mật khẩu.", locale)
        return render(request, "identity/login.html", context, status_code=422)
    outcome = service.login(
        session,
        username=username,
        password=password,
        totp=totp,
        kind="browser",
        settings=settings,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    if outcome.failure is not None:
        failure = outcome.failure
        context["error"] = translate(failure.message, locale, **failure.params)
        # Rendered, not raised: the failed attempt is committed (rate limiting counts it).
        return render(request, "identity/login.html", context, status_code=failure.status)
    assert outcome.token is not None
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.get("/tai-khoan")
def account(request: Request, actor: PageActor, session: DbSession) -> Response:
    if actor.kind is not ActorKind.OFFICIAL or actor.id is None:
        return RedirectResponse(f"/dang-nhap?next={quote('/tai-khoan')}", status_code=303)
    locale = request_locale(request)
    official = service.get_official(session, actor=actor, official_id=int(actor.id))
    notice = request.query_params.get("notice")
    return render(
        request,
        "identity/account.html",
        {
            "actor": actor,
            "official": official,
            "sessions": service.list_sessions(session, actor=actor),
            "current_session": actor.session_id,
            "role_names": {k: translate(v, locale) for k, v in ROLE_NAMES.items()},
            "notice": translate("Đã thu hồi phiên đăng nhập.", locale)
            if notice == "revoked"
            else None,
        },
    )


@router.post("/tai-khoan/phien/{session_id}/thu-hoi")
async def revoke(
    request: Request, session_id: str, actor: PageActor, session: DbSession
) -> Response:
    form = await request.form()
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if actor.kind is not ActorKind.OFFICIAL:
        return RedirectResponse("/dang-nhap", status_code=303)
    service.revoke_session(session, actor=actor, session_id=session_id)
    return RedirectResponse("/tai-khoan?notice=revoked", status_code=303)


@router.post("/dang-xuat")
async def logout(request: Request, actor: PageActor, session: DbSession) -> Response:
    form = await request.form()
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if actor.kind is ActorKind.OFFICIAL:
        service.logout(session, actor=actor)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
