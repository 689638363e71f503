"""Citizens' own dossiers (the receipt with its QR code, the live timeline, answering a
supplementation request, withdrawing) and the public look-up, by code or QR."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cityhall.config import Settings
from cityhall.core.actors import Actor
from cityhall.core.blobs import service as blobs
from cityhall.core.i18n import N_, translate
from cityhall.dossiers import queries, service
from cityhall.dossiers.lifecycle import STATE_LABELS, Action
from cityhall.dossiers.pages import (
    MAX_FILES,
    Application,
    _is_citizen,
    _login_redirect,
    _read_files,
    _str,
)
from cityhall.dossiers.schemas import ActionIn, InboxQuery
from cityhall.errors import DomainError, NotFound
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)


# --- my dossiers --------------------------------------------------------------------------------


def _qr(settings: Settings, code: str) -> str:
    url = f"{settings.base_url.rstrip('/')}/tra-cuu/{code}"
    svg: str = segno.make(url, error="m").svg_inline(scale=4, title=f"QR {code}")
    return svg


@router.get("/ho-so-cua-toi")
def my_dossiers(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings, page: int = 1
) -> Response:
    if not _is_citizen(actor):
        return _login_redirect(request)
    query = InboxQuery.model_validate({"page": max(1, min(page, 10_000)), "page_size": 20})
    listing = queries.list_dossiers(session, actor=actor, query=query, settings=settings)
    return render(
        request, "dossiers/mine.html", {"actor": actor, "listing": listing, "labels": STATE_LABELS}
    )


def _own_view(
    request: Request,
    session: Any,
    actor: Actor,
    code: str,
    settings: Settings,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    dossier = queries.get_dossier(session, actor=actor, code=code[:60])
    history = queries.history(session, actor=actor, code=dossier.code)
    version = service.version_of(session, dossier.procedure_version_id)
    return render(
        request,
        "dossiers/own.html",
        {
            "actor": actor,
            "d": dossier,
            "history": history,
            "version": version,
            "missing": queries.last_missing(session, dossier.code),
            "qr": _qr(settings, dossier.code),
            "new": request.query_params.get("moi") == "1",
            "max_mb": blobs.megabytes(settings.blob_max_bytes),
            "errors": {},
            **extra,
        },
        status_code=status_code,
    )


@router.get("/ho-so-cua-toi/{code}")
def my_dossier(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _is_citizen(actor):
        return _login_redirect(request)
    return _own_view(request, session, actor, code, settings)


@router.get("/ho-so-cua-toi/{code}/tien-do")
def my_dossier_progress(
    request: Request, code: str, actor: PageActor, session: DbSession
) -> Response:
    """The timeline fragment htmx polls, so status changes appear without reloading."""
    if not _is_citizen(actor):
        return Response(status_code=401)
    dossier = queries.get_dossier(session, actor=actor, code=code[:60])
    history = queries.history(session, actor=actor, code=dossier.code)
    return render(request, "dossiers/_timeline.html", {"d": dossier, "history": history})


@router.post("/ho-so-cua-toi/{code}/bo-sung")
async def my_supplement(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    form = await request.form(max_files=MAX_FILES, max_fields=100)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        if not _is_citizen(actor):
            return _login_redirect(request)
        dossier = queries.get_dossier(session, actor=actor, code=code[:60])
        version = service.version_of(session, dossier.procedure_version_id)
        app = Application({}, {}, {}, {}, "")
        await _read_files(request, form, session, actor, settings, version, app)
        note = _str(form.get("note")).strip()
        if app.errors:
            return _own_view(
                request,
                session,
                actor,
                dossier.code,
                settings,
                errors=app.errors,
                note=note,
                status_code=422,
            )
        try:
            with session.begin_nested():
                service.act(
                    session,
                    actor=actor,
                    code=dossier.code,
                    action=Action.SUPPLEMENT.value,
                    data=ActionIn(
                        note=note or None,
                        documents=[
                            {"code": d["code"], "sha256": d["sha256"]}
                            for d in app.uploaded.values()
                        ],
                    ),
                    settings=settings,
                )
        except DomainError as exc:
            locale = request_locale(request)
            errors = {e.field: translate(e.message, locale, **e.params) for e in exc.errors} or {
                "_form": translate(exc.message, locale, **exc.params)
            }
            return _own_view(
                request,
                session,
                actor,
                dossier.code,
                settings,
                errors=errors,
                note=note,
                status_code=exc.status,
            )
        return RedirectResponse(f"/ho-so-cua-toi/{dossier.code}?da_bo_sung=1", status_code=303)
    finally:
        await form.close()


@router.post("/ho-so-cua-toi/{code}/rut")
async def my_withdraw(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    form = await request.form(max_fields=10)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    if not _is_citizen(actor):
        return _login_redirect(request)
    note = _str(form.get("note")).strip()
    try:
        with session.begin_nested():
            service.act(
                session,
                actor=actor,
                code=code[:60],
                action=Action.WITHDRAW.value,
                data=ActionIn(note=note or None),
                settings=settings,
            )
    except DomainError as exc:
        locale = request_locale(request)
        return _own_view(
            request,
            session,
            actor,
            code,
            settings,
            errors={"_form": translate(exc.message, locale, **exc.params)},
            status_code=exc.status,
        )
    return RedirectResponse(f"/ho-so-cua-toi/{code[:60]}", status_code=303)


# --- public look-up ------------------------------------------------------------------------------


@router.get("/tra-cuu")
def lookup_form(
    request: Request, actor: PageActor, session: DbSession, ma: str | None = None
) -> Response:
    if ma and ma.strip():
        return RedirectResponse(f"/tra-cuu/{quote(ma.strip()[:60])}", status_code=303)
    return render(request, "dossiers/lookup.html", {"actor": actor, "result": None, "code": ""})


@router.get("/tra-cuu/{code}")
def lookup(request: Request, code: str, actor: PageActor, session: DbSession) -> Response:
    try:
        result = queries.lookup(session, code[:60])
    except NotFound:
        return render(
            request,
            "dossiers/lookup.html",
            {
                "actor": actor,
                "result": None,
                "code": code[:60],
                "error": translate(
                    N_("Không tìm thấy hồ sơ mã {code}. Kiểm tra lại mã trên giấy tiếp nhận."),
                    request_locale(request),
                    code=code[:60],
                ),
            },
            status_code=404,
        )
    return render(
        request, "dossiers/lookup.html", {"actor": actor, "result": result, "code": result.code}
    )
