"""Officers' pages of the one-stop back office: the inbox by deadline, a dossier with every
allowed action, intake at the desk for a walk-in applicant, documents to read.

Each action is a small HTML form posting to one route; the service decides (409 state,
403 role, 404 jurisdiction) and the page shows its message next to the action.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from cityhall.catalog import queries as catalog
from cityhall.catalog.forms import fields_from_schema, parse_posted
from cityhall.catalog.schemas import Level, ProcedureQuery
from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.core.blobs import service as blobs
from cityhall.core.blobs.store import get_blob_store
from cityhall.core.i18n import N_, translate
from cityhall.dossiers import queries, service
from cityhall.dossiers.lifecycle import ACTION_LABELS, STATE_LABELS, Action
from cityhall.dossiers.pages import Application, _error_key, _read_files, _str, _units
from cityhall.dossiers.schemas import ActionIn, DossierSubmit, InboxQuery
from cityhall.errors import DomainError, Invalid, NotFound
from cityhall.identity import service as identity
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)

URGENCY_LABELS = {
    "overdue": N_("Quá hạn"),
    "due_today": N_("Đến hạn hôm nay"),
    "due_soon": N_("Sắp đến hạn"),
    "normal": N_("Còn hạn"),
    "ready": N_("Chờ trả kết quả"),
    "closed": N_("Đã kết thúc"),
}
TIMELINESS_LABELS = {"early": N_("Trước hạn"), "on_time": N_("Đúng hạn"), "late": N_("Quá hạn")}


def _official(actor: Actor) -> bool:
    return actor.kind is ActorKind.OFFICIAL


def _login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dang-nhap?next={quote(target)}", status_code=303)


@router.get("/can-bo/ho-so")
def inbox(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _official(actor):
        return _login(request)
    params = request.query_params
    raw: dict[str, Any] = {"page": params.get("page") or 1, "page_size": 20}
    if params.get("state"):
        raw["state"] = [params["state"]]
    if params.get("overdue") == "1":
        raw["overdue"] = True
    if params.get("mine") == "1":
        raw["mine"] = True
    if (params.get("q") or "").strip():
        raw["q"] = params["q"].strip()[:100]
    error = None
    try:
        query = InboxQuery.model_validate(raw)
    except ValidationError:
        error = translate(
            N_("Bộ lọc không hợp lệ; đã hiển thị mọi hồ sơ đang xử lý."), request_locale(request)
        )
        query = InboxQuery()
    listing = queries.list_dossiers(session, actor=actor, query=query, settings=settings)
    keep = {k: v for k, v in params.items() if k != "page" and v}
    return render(
        request,
        "backoffice/inbox.html",
        {
            "actor": actor,
            "listing": listing,
            "query": query,
            "params": params,
            "keep": urlencode(keep),
            "states": STATE_LABELS,
            "urgency": URGENCY_LABELS,
            "error": error,
            "pages": max(1, -(-listing.total // query.page_size)),
        },
    )


def _local(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%dT%H:%M")


def _dossier_page(
    request: Request,
    session: Any,
    actor: Actor,
    settings: Settings,
    code: str,
    *,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    d = queries.get_dossier(session, actor=actor, code=code[:60])
    history = queries.history(session, actor=actor, code=d.code)
    version = service.version_of(session, d.procedure_version_id)
    labels = {f.name: f.label for f in fields_from_schema(version.form_schema)}
    handlers: list[tuple[int, str]] = []
    if Action.ASSIGN in d.allowed_actions:
        handlers = identity.colleagues_with_role(
            session,
            actor=actor,
            agency_code=d.competent_agency.code,
            roles=(Role.HANDLER, Role.APPROVER),
        )
    proposed = d.due_at
    return render(
        request,
        "backoffice/dossier.html",
        {
            "actor": actor,
            "d": d,
            "history": history,
            "version": version,
            "labels": labels,
            "handlers": handlers,
            "actions": [(a.value, ACTION_LABELS[a]) for a in d.allowed_actions],
            "timeliness": TIMELINESS_LABELS,
            "error": error,
            "done": request.query_params.get("ok"),
            "due_local": _local(settings, proposed),
            "fees": sum(f.amount for f in version.fees),
            "action_labels": {a.value: label for a, label in ACTION_LABELS.items()},
        },
        status_code=status_code,
    )


@router.get("/can-bo/ho-so/{code}")
def dossier(
    request: Request, code: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    if not _official(actor):
        return _login(request)
    return _dossier_page(request, session, actor, settings, code)


def _action_data(form: Any, action: Action, settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {"note": _str(form.get("note")).strip() or None}
    if action is Action.REQUEST_SUPPLEMENT:
        ticked = [v for v in form.getlist("missing") if isinstance(v, str) and v]
        typed = [
            line.strip() for line in _str(form.get("missing_other")).splitlines() if line.strip()
        ]
        data["missing"] = ticked + typed
    if action is Action.REFUSE:
        data["reasons"] = [
            line.strip() for line in _str(form.get("reasons")).splitlines() if line.strip()
        ]
    if action is Action.ASSIGN and _str(form.get("handler_id")).isdigit():
        data["handler_id"] = int(_str(form.get("handler_id")))
    if action is Action.APOLOGIZE and _str(form.get("new_due_at")):
        try:
            local = datetime.fromisoformat(_str(form.get("new_due_at")))
            data["new_due_at"] = (
                local.replace(tzinfo=ZoneInfo(settings.timezone)) if local.tzinfo is None else local
            )
        except ValueError:
            data["new_due_at"] = None
    if action is Action.REQUEST_PAYMENT and _str(form.get("amount")).strip().isdigit():
        data["amount"] = int(_str(form.get("amount")).strip())
    return data


@router.post("/can-bo/ho-so/{code}/thao-tac/{action}")
async def act(
    request: Request,
    code: str,
    action: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    form = await request.form(max_files=30, max_fields=200)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        if not _official(actor):
            return _login(request)
        locale = request_locale(request)
        try:
            wanted = Action(action)
        except ValueError:
            raise NotFound("Không có thao tác “{action}”.", action=action[:40]) from None
        try:
            data = _action_data(form, wanted, settings)
            if wanted is Action.SUPPLEMENT:
                d = queries.get_dossier(session, actor=actor, code=code[:60])
                version = service.version_of(session, d.procedure_version_id)
                app = Application({}, {}, {}, {}, "")
                await _read_files(request, form, session, actor, settings, version, app)
                if app.errors:
                    raise Invalid(next(iter(app.errors.values())))
                data["documents"] = [
                    {"code": x["code"], "sha256": x["sha256"]} for x in app.uploaded.values()
                ]
            with session.begin_nested():
                service.act(
                    session,
                    actor=actor,
                    code=code[:60],
                    action=wanted.value,
                    data=ActionIn.model_validate(data),
                    settings=settings,
                )
        except DomainError as exc:
            message = translate(exc.message, locale, **exc.params)
            details = "; ".join(translate(e.message, locale, **e.params) for e in exc.errors)
            text = f"{message} {details}".strip() if details and details not in message else message
            if exc.status == 404:
                raise
            return _dossier_page(
                request,
                session,
                actor,
                settings,
                code,
                error=(wanted.value, text),
                status_code=exc.status,
            )
        except ValidationError:
            text = translate(N_("Dữ liệu không hợp lệ."), locale)
            return _dossier_page(
                request, session, actor, settings, code, error=(wanted.value, text), status_code=422
            )
        return RedirectResponse(f"/can-bo/ho-so/{code[:60]}?ok={wanted.value}", status_code=303)
    finally:
        await form.close()


@router.get("/can-bo/ho-so/{code}/tep/{sha256}")
def document(
    request: Request,
    code: str,
    sha256: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    """A part of a dossier, for an officer who may see the dossier (the read is audited
    with the dossier)."""
    if not _official(actor):
        return _login(request)
    d = queries.get_dossier(session, actor=actor, code=code[:60])
    if sha256 not in {x.sha256 for x in d.documents}:
        raise NotFound("Không tìm thấy tệp.")
    blob = blobs.get_blob(session, sha256)
    store = get_blob_store(settings)
    kind = (
        "inline"
        if blob.content_type in ("application/pdf", "image/png", "image/jpeg", "image/webp")
        else "attachment"
    )
    return StreamingResponse(
        iter([store.get(blob.sha256)]),
        media_type=blob.content_type,
        headers={
            "Content-Disposition": f"{kind}; filename*=UTF-8''{quote(blob.filename, safe='')}",
            "Cache-Control": "private, no-store",
        },
    )


# --- intake at the desk --------------------------------------------------------------------------


def _intake_page(
    request: Request,
    session: Any,
    actor: Actor,
    code: str | None,
    app: Application | None,
    status_code: int = 200,
) -> Response:
    version = catalog.get_procedure(session, code) if code else None
    procedures = catalog.search_procedures(session, ProcedureQuery(page_size=100)).items
    return render(
        request,
        "backoffice/intake.html",
        {
            "actor": actor,
            "p": version,
            "procedures": procedures,
            "fields": fields_from_schema(version.form_schema) if version else [],
            "app": app or Application({}, {}, {}, {}, uuid.uuid4().hex),
            "units": _units(session),
            "ward_level": bool(version and version.level is Level.WARD),
            "max_mb": blobs.megabytes(request.app.state.settings.blob_max_bytes),
        },
        status_code=status_code,
    )


@router.get("/can-bo/tiep-nhan")
def intake_form(
    request: Request, actor: PageActor, session: DbSession, thu_tuc: str | None = None
) -> Response:
    if not _official(actor):
        return _login(request)
    code = (thu_tuc or "").strip()[:32] or None
    return _intake_page(request, session, actor, code, None)


@router.post("/can-bo/tiep-nhan")
async def intake_submit(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    form = await request.form(max_files=30, max_fields=400)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        if not _official(actor):
            return _login(request)
        code = _str(form.get("procedure_code"))[:32]
        version = catalog.get_procedure(session, code)
        locale = request_locale(request)
        fields = fields_from_schema(version.form_schema)
        posted = {f.name: _str(form.get(f"f_{f.name}")) for f in fields}
        contact = {
            k: _str(form.get(k)).strip()
            for k in (
                "id_number",
                "full_name",
                "phone",
                "email",
                "street",
                "address_unit",
                "unit_code",
                "channel",
            )
        }
        app = Application(
            {k: v for k, v in posted.items() if v},
            contact,
            {},
            {},
            _str(form.get("submit_token")) or uuid.uuid4().hex,
        )
        await _read_files(request, form, session, actor, settings, version, app)
        pages = {c: _str(form.get(f"pages_{c}")) for c in app.uploaded}
        body = {
            "procedure_code": version.code,
            "channel": contact["channel"]
            if contact["channel"] in ("counter", "post")
            else "counter",
            "applicant": {
                "id_number": contact["id_number"],
                "full_name": contact["full_name"],
                "phone": contact["phone"] or None,
                "email": contact["email"] or None,
                "address": {"street": contact["street"], "unit_code": contact["address_unit"]},
            },
            "form": parse_posted(version.form_schema, posted),
            "unit_code": contact["unit_code"] or None,
            "documents": [
                {
                    "code": d["code"],
                    "sha256": d["sha256"],
                    "pages": int(pages[d["code"]])
                    if pages.get(d["code"], "").isdigit() and int(pages[d["code"]]) > 0
                    else None,
                }
                for d in app.uploaded.values()
            ],
        }
        codes = [d["code"] for d in app.uploaded.values()]
        mapping = {"applicant.id_number": "id_number", "applicant.full_name": "full_name"}
        try:
            submission = DossierSubmit.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                key = mapping.get(where) or _error_key(where, version, codes)
                app.errors.setdefault(key, translate(N_("Giá trị không hợp lệ."), locale))
            submission = None
        if app.errors or submission is None:
            return _intake_page(request, session, actor, version.code, app, 422)
        try:
            with session.begin_nested():
                result = service.submit_dossier(
                    session,
                    actor=actor,
                    data=submission,
                    settings=settings,
                    idempotency_key=f"desk:{app.token}"[:200],
                )
        except Invalid as exc:
            for e in exc.errors:
                key = mapping.get(e.field) or _error_key(e.field, version, codes)
                app.errors.setdefault(key, translate(e.message, locale, **e.params))
            if not app.errors:
                app.errors["_form"] = translate(exc.message, locale, **exc.params)
            return _intake_page(request, session, actor, version.code, app, 422)
        return RedirectResponse(f"/can-bo/ho-so/{result.dossier.code}?ok=submit", status_code=303)
    finally:
        await form.close()
