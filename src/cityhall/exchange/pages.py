"""HTML pages of the data-sharing platform.

- ``/trao-doi-du-lieu``: the public catalogue of shared databases and services;
- ``/quan-tri/trao-doi-du-lieu``: the platform administrators' monitoring and access rights;
- ``/du-lieu-cua-toi``: a citizen's view of who accessed their data, and their consents.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from cityhall.core.actors import CITY_AGENCY_CODE, Actor, ActorKind, Role
from cityhall.core.i18n import N_, translate
from cityhall.errors import DomainError, Forbidden
from cityhall.exchange import national, queries, service
from cityhall.exchange.schemas import Classification, ConsentIn, RightIn, ServiceQuery
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20

CLASSIFICATION_LABELS = {
    Classification.PUBLIC.value: N_("Công khai"),
    Classification.INTERNAL.value: N_("Nội bộ"),
    Classification.PERSONAL.value: N_("Dữ liệu cá nhân"),
    Classification.SENSITIVE.value: N_("Dữ liệu cá nhân nhạy cảm"),
}


def _int(value: str | None, default: int, *, low: int = 0, high: int = 10_000) -> int:
    try:
        return min(max(int(value or default), low), high)
    except ValueError:
        return default


@router.get("/trao-doi-du-lieu")
def catalogue(request: Request, actor: PageActor, session: DbSession) -> Response:
    q = (request.query_params.get("q") or "").strip()[:200]
    raw = request.query_params.get("loai") or ""
    classification = raw if raw in CLASSIFICATION_LABELS else None
    page = _int(request.query_params.get("trang"), 1, low=1)
    result = queries.search_services(
        session,
        ServiceQuery(
            q=q or None,
            classification=classification,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    return render(
        request,
        "exchange/catalogue.html",
        {
            "actor": actor,
            "result": result,
            "q": q,
            "loai": classification or "",
            "page": page,
            "pages": max(1, -(-result.total // PAGE_SIZE)),
            "labels": CLASSIFICATION_LABELS,
        },
    )


@router.get("/trao-doi-du-lieu/dich-vu")
def service_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    full_id = (request.query_params.get("id") or "")[:300]
    detail = queries.get_service(session, full_id)
    return render(
        request,
        "exchange/service.html",
        {"actor": actor, "s": detail, "labels": CLASSIFICATION_LABELS},
    )


# --- administrators ------------------------------------------------------------------------


def _admin(request: Request, actor: Actor) -> Response | None:
    if actor.kind is not ActorKind.OFFICIAL:
        return RedirectResponse(f"/dang-nhap?next={request.url.path}", status_code=303)
    if not actor.has_role(Role.ADMIN, CITY_AGENCY_CODE):
        raise Forbidden(N_("Trang này chỉ dành cho quản trị viên nền tảng."))
    return None


def _admin_page(
    request: Request,
    actor: Actor,
    session: Any,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    posted: dict[str, str] | None = None,
) -> Response:
    catalogue = queries.search_services(session, ServiceQuery(limit=100))
    return render(
        request,
        "exchange/admin.html",
        {
            "actor": actor,
            "stats": queries.stats(session, actor=actor),
            "rights": queries.list_rights(session, actor=actor),
            "services": catalogue.items,
            "error": error,
            "notice": notice,
            "posted": posted or {},
        },
        status_code=status_code,
    )


@router.get("/quan-tri/trao-doi-du-lieu")
def admin(request: Request, actor: PageActor, session: DbSession) -> Response:
    return _admin(request, actor) or _admin_page(request, actor, session)


@router.post("/quan-tri/trao-doi-du-lieu/cap-quyen")
async def admin_grant(request: Request, actor: PageActor, session: DbSession) -> Response:
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    form = await request.form()
    verify_csrf(request, str(form.get(CSRF_FIELD) or ""))
    posted = {k: str(form.get(k) or "").strip() for k in ("client", "service", "purposes")}
    purposes = [p.strip() for p in posted["purposes"].split(",") if p.strip()]
    locale = request_locale(request)
    try:
        data = RightIn(
            client=posted["client"],
            service=posted["service"],
            purposes=purposes or None,
        )
        service.grant_right(session, actor=actor, data=data)
    except ValidationError:
        message = N_("Mã hệ thống phải có dạng VN/GOV/<mã cơ quan>/<mã hệ thống>.")
        return _admin_page(
            request,
            actor,
            session,
            error=translate(message, locale),
            status_code=422,
            posted=posted,
        )
    except DomainError as exc:
        session.rollback()
        text = translate(exc.message, locale).format(**exc.params)
        return _admin_page(
            request, actor, session, error=text, status_code=exc.status, posted=posted
        )
    return RedirectResponse("/quan-tri/trao-doi-du-lieu?da-cap=1", status_code=303)


@router.post("/quan-tri/trao-doi-du-lieu/quyen/{right_id}/thu-hoi")
async def admin_revoke(
    request: Request, right_id: int, actor: PageActor, session: DbSession
) -> Response:
    if (redirect := _admin(request, actor)) is not None:
        return redirect
    form = await request.form()
    verify_csrf(request, str(form.get(CSRF_FIELD) or ""))
    service.revoke_right(session, actor=actor, right_id=right_id)
    return RedirectResponse("/quan-tri/trao-doi-du-lieu?da-thu-hoi=1", status_code=303)


# --- the citizen's own data ----------------------------------------------------------------


def _citizen(request: Request, actor: Actor) -> Response | None:
    if actor.kind is not ActorKind.CITIZEN:
        return RedirectResponse(f"/dang-nhap-cong-dan?next={request.url.path}", status_code=303)
    return None


@router.get("/du-lieu-cua-toi")
def my_data(request: Request, actor: PageActor, session: DbSession) -> Response:
    if (redirect := _citizen(request, actor)) is not None:
        return redirect
    page = _int(request.query_params.get("trang"), 1, low=1)
    accesses = queries.accesses_to_me(
        session, actor=actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "exchange/my_data.html",
        {
            "actor": actor,
            "accesses": accesses,
            "page": page,
            "pages": max(1, -(-accesses.total // PAGE_SIZE)),
            "purposes": national.purposes(),
            "consents": queries.my_consents(session, actor=actor),
        },
    )


@router.post("/du-lieu-cua-toi/dong-y")
async def my_consent(request: Request, actor: PageActor, session: DbSession) -> Response:
    if (redirect := _citizen(request, actor)) is not None:
        return redirect
    form = await request.form()
    verify_csrf(request, str(form.get(CSRF_FIELD) or ""))
    purpose = str(form.get("purpose") or "")
    if purpose not in national.purposes():
        raise Forbidden(N_("Mục đích không có trong danh mục."))
    if form.get("action") == "withdraw":
        service.withdraw_consent(session, actor=actor, purpose=purpose)
    else:
        service.give_consent(session, actor=actor, data=ConsentIn(purpose=purpose))
    return RedirectResponse("/du-lieu-cua-toi#dong-y", status_code=303)
