"""Administrators' pages: officials and their roles, the working-day calendar, the
procedure catalogue's versions (view, validate and import). Each page calls the owning
domain's service; the services check that the actor is an administrator."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from cityhall.catalog import queries as catalog_queries
from cityhall.catalog.service import CatalogInvalid, import_catalog, set_version_active
from cityhall.config import get_settings
from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.core.calendar import service as calendar
from cityhall.core.i18n import N_, translate
from cityhall.errors import DomainError, Forbidden
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from cityhall.places import queries as places
from cityhall.places.schemas import AgencyQuery
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/quan-tri")

ROLE_LABELS = {
    Role.INTAKE_OFFICER.value: N_("Cán bộ tiếp nhận"),
    Role.HANDLER.value: N_("Cán bộ thụ lý"),
    Role.APPROVER.value: N_("Lãnh đạo phê duyệt"),
    Role.ADMIN.value: N_("Quản trị hệ thống"),
    Role.OPERATIONS_VIEWER.value: N_("Theo dõi điều hành"),
}


def _today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _admin(request: Request, actor: Actor) -> Response | None:
    if actor.kind is not ActorKind.OFFICIAL:
        return RedirectResponse(f"/dang-nhap?next={request.url.path}", status_code=303)
    if not actor.is_admin:
        raise Forbidden("Trang này chỉ dành cho quản trị viên.")
    return None


# --- officials -----------------------------------------------------------------------------------


def _officials_page(request: Request, session: Any, actor: Actor, **extra: Any) -> Response:
    officials, total = identity.list_officials(
        session, actor=actor, agency_code=None, limit=200, offset=0
    )
    agencies = places.search_agencies(session, AgencyQuery.model_validate({"limit": 200})).items
    return render(
        request,
        "admin/officials.html",
        {
            "actor": actor,
            "officials": officials,
            "total": total,
            "agencies": agencies,
            "roles": ROLE_LABELS,
            "errors": {},
            "values": {},
            **extra,
        },
        status_code=extra.pop("status_code", 200) if "status_code" in extra else 200,
    )


@router.get("/can-bo")
def officials(request: Request, actor: PageActor, session: DbSession) -> Response:
    return _admin(request, actor) or _officials_page(
        request, session, actor, created=request.query_params.get("ok")
    )


@router.post("/can-bo")
async def create_official(request: Request, actor: PageActor, session: DbSession) -> Response:
    form = await request.form(max_fields=20)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    values = {
        k: _str(form.get(k)).strip()
        for k in ("username", "full_name", "email", "role", "agency_code")
    }
    password = _str(form.get("password"))
    locale = request_locale(request)
    errors: dict[str, str] = {}
    try:
        data = OfficialCreate(
            username=values["username"],
            full_name=values["full_name"],
            email=values["email"] or None,
            password=password,
            roles=[
                RoleGrantIn(
                    role=Role(values["role"]) if values["role"] in ROLE_LABELS else Role.HANDLER,
                    agency_code=values["agency_code"],
                )
            ],
        )
        with session.begin_nested():
            identity.create_official(session, actor=actor, data=data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.setdefault(str(err["loc"][0]), translate(N_("Giá trị không hợp lệ."), locale))
    except DomainError as exc:
        for e in exc.errors:
            errors.setdefault(
                e.field.split(".")[0].split("[")[0], translate(e.message, locale, **e.params)
            )
        if not errors:
            errors["_form"] = translate(exc.message, locale, **exc.params)
    if errors:
        return _officials_page(
            request, session, actor, errors=errors, values=values, status_code=422
        )
    return RedirectResponse(f"/quan-tri/can-bo?ok={values['username']}", status_code=303)


@router.post("/can-bo/{official_id}/vai-tro")
async def change_role(
    request: Request, official_id: int, actor: PageActor, session: DbSession
) -> Response:
    """Grant a role (role + agency) or revoke one (``revoke`` = the role's id)."""
    form = await request.form(max_fields=10)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    locale = request_locale(request)
    try:
        with session.begin_nested():
            revoke = _str(form.get("revoke"))
            if revoke.isdigit():
                identity.revoke_role(
                    session, actor=actor, official_id=official_id, role_id=int(revoke)
                )
            else:
                role = _str(form.get("role"))
                grant = RoleGrantIn(
                    role=Role(role) if role in ROLE_LABELS else Role.HANDLER,
                    agency_code=_str(form.get("agency_code")),
                )
                identity.grant_role(session, actor=actor, official_id=official_id, grant=grant)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            details = [translate(e.message, locale, **e.params) for e in exc.errors]
            message = "; ".join(details) or translate(exc.message, locale, **exc.params)
            status = exc.status
        else:
            message, status = translate(N_("Giá trị không hợp lệ."), locale), 422
        return _officials_page(
            request, session, actor, errors={"_form": message}, status_code=status
        )
    return RedirectResponse("/quan-tri/can-bo", status_code=303)


# --- calendar ------------------------------------------------------------------------------------


def _calendar_page(
    request: Request, session: Any, actor: Actor, settings: Any, year: int, **extra: Any
) -> Response:
    cal = calendar.load_calendar(session, settings)
    days = cal.overrides_between(date(year, 1, 1), date(year, 12, 31))
    return render(
        request,
        "admin/calendar.html",
        {"actor": actor, "days": days, "year": year, "errors": {}, "values": {}, **extra},
        status_code=extra.pop("status_code", 200) if "status_code" in extra else 200,
    )


@router.get("/lich")
def calendar_page(
    request: Request,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
    nam: int | None = None,
) -> Response:
    year = nam if nam and 2000 <= nam <= 2100 else _today().year
    return _admin(request, actor) or _calendar_page(request, session, actor, settings, year)


@router.post("/lich")
async def calendar_edit(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    form = await request.form(max_fields=20)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    values = {k: _str(form.get(k)).strip() for k in ("day", "kind", "name", "note", "delete")}
    locale = request_locale(request)
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        return _calendar_page(
            request,
            session,
            actor,
            settings,
            _today().year,
            errors={"day": translate(N_("Ngày không hợp lệ."), locale)},
            values=values,
            status_code=422,
        )
    try:
        with session.begin_nested():
            if values["delete"]:
                calendar.delete_override(session, actor=actor, day=day)
            else:
                calendar.set_override(
                    session,
                    actor=actor,
                    day=day,
                    kind=values["kind"],
                    name=values["name"],
                    note=values["note"] or None,
                )
    except DomainError as exc:
        errors = {e.field: translate(e.message, locale, **e.params) for e in exc.errors} or {
            "_form": translate(exc.message, locale, **exc.params)
        }
        return _calendar_page(
            request,
            session,
            actor,
            settings,
            day.year,
            errors=errors,
            values=values,
            status_code=exc.status,
        )
    return RedirectResponse(f"/quan-tri/lich?nam={day.year}", status_code=303)


# --- catalogue -----------------------------------------------------------------------------------


@router.get("/danh-muc")
def catalog_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    rows = catalog_queries.list_versions(session)
    return render(
        request,
        "admin/catalog.html",
        {"actor": actor, "rows": rows, "today": _today(), "report": None, "problems": []},
    )


@router.post("/danh-muc/{version_id}/trang-thai")
async def catalog_activate(
    request: Request, version_id: int, actor: PageActor, session: DbSession
) -> Response:
    """Put a version in service (``active=1``) or take it out (``active=0``)."""
    form = await request.form(max_fields=5)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    try:
        with session.begin_nested():
            set_version_active(
                session, actor=actor, version_id=version_id, active=_str(form.get("active")) == "1"
            )
    except DomainError as exc:
        locale = request_locale(request)
        return render(
            request,
            "admin/catalog.html",
            {
                "actor": actor,
                "rows": catalog_queries.list_versions(session),
                "today": _today(),
                "report": None,
                "problems": [translate(exc.message, locale, **exc.params)],
            },
            status_code=exc.status,
        )
    return RedirectResponse("/quan-tri/danh-muc", status_code=303)


@router.post("/danh-muc/nhap")
async def catalog_import(request: Request, actor: PageActor, session: DbSession) -> Response:
    form = await request.form(max_fields=5)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    try:
        with session.begin_nested():
            report = import_catalog(session, actor=actor)
    except CatalogInvalid as exc:
        return render(
            request,
            "admin/catalog.html",
            {
                "actor": actor,
                "rows": [],
                "today": _today(),
                "report": None,
                "problems": [str(p) for p in exc.problems],
            },
            status_code=422,
        )
    rows = catalog_queries.list_versions(session)
    return render(
        request,
        "admin/catalog.html",
        {"actor": actor, "rows": rows, "today": _today(), "report": report, "problems": []},
    )
