"""Staff pages of the 1022 line under ``/can-bo/phan-anh``: the unit's inbox, the city's
dispatch queue, the moderation queue, a report with every allowed action, merging
duplicates, and the hotline operator's intake form.

Each action is a small HTML form posting to one route; the service decides (409 state,
403 role, 404 jurisdiction) and the page shows its message next to the action, each
field's problem next to the field.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.blobs import service as blobs
from cityhall.core.blobs.store import get_blob_store
from cityhall.core.i18n import N_, translate
from cityhall.errors import DomainError, FieldError, Invalid, NotFound
from cityhall.feedback import permissions as perms
from cityhall.feedback import queries, service
from cityhall.feedback.lifecycle import ACTION_LABELS, STATE_LABELS
from cityhall.feedback.schemas import (
    Action,
    ActionIn,
    CategoryOut,
    HotlineReportIn,
    InboxQuery,
    Moderation,
    State,
)
from cityhall.places import queries as places
from cityhall.places.schemas import AgencyQuery
from cityhall.web.auth import PageActor
from cityhall.web.csrf import CSRF_FIELD, verify_csrf
from cityhall.web.deps import AppSettings, DbSession, request_locale
from cityhall.web.templating import render

router = APIRouter(include_in_schema=False)
BASE = "/can-bo/phan-anh"

CHANNEL_LABELS = {
    "web": N_("Cổng thông tin"),
    "phone": N_("Điện thoại 1022"),
    "email": N_("Thư điện tử"),
    "social": N_("Mạng xã hội"),
    "open311": N_("Ứng dụng (Open311)"),
}
MODERATION_LABELS = {
    "pending": N_("Chờ kiểm duyệt"),
    "approved": N_("Đã công khai"),
    "hidden": N_("Không công khai"),
}
ACTION_ORDER = [
    Action.ASSIGN,
    Action.START,
    Action.PROGRESS,
    Action.RESOLVE,
    Action.REJECT,
    Action.REASSIGN,
    Action.MERGE,
    Action.MODERATE,
]


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dang-nhap?next={quote(target)}", status_code=303)


def _gate(request: Request, actor: Actor, *, operator: bool = False) -> Response | None:
    """A login redirect for visitors; 403 for officials without a feedback role."""
    if actor.kind is not ActorKind.OFFICIAL:
        return _login(request)
    allowed = perms.is_operator(actor) if operator else perms.is_staff(actor)
    if not allowed:
        return render(
            request,
            "feedback/office/forbidden.html",
            {"actor": actor, "operator": operator},
            status_code=403,
        )
    return None


def _tabs(actor: Actor) -> list[tuple[str, str]]:
    tabs = []
    if perms.unit_agencies(actor) or perms.is_dispatcher(actor):
        tabs.append((BASE, N_("Hộp phản ánh")))
    if perms.is_dispatcher(actor):
        tabs.append((f"{BASE}/dieu-phoi", N_("Hàng chờ điều phối")))
    if perms.is_moderator(actor):
        tabs.append((f"{BASE}/kiem-duyet", N_("Chờ kiểm duyệt")))
    if perms.is_operator(actor):
        tabs.append((f"{BASE}/tong-dai", N_("Nhập cuộc gọi 1022")))
    return tabs


# --- lists ----------------------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    view: str,
    title: str,
) -> Response:
    params = request.query_params
    raw: dict[str, Any] = {"page": params.get("page") or 1, "page_size": 20}
    if view == "dispatch":
        raw["state"] = [State.DISPATCH.value]
    elif view == "moderation":
        raw["moderation"] = Moderation.PENDING.value
    elif params.get("state"):
        raw["state"] = [params["state"]]
    if params.get("overdue") == "1":
        raw["overdue"] = True
    if params.get("category"):
        raw["category_code"] = params["category"]
    if (params.get("q") or "").strip():
        raw["q"] = params["q"].strip()[:100]
    error = None
    try:
        query = InboxQuery.model_validate(raw)
    except ValidationError:
        error = translate(
            N_("Bộ lọc không hợp lệ; đã hiển thị mọi phản ánh đang xử lý."), request_locale(request)
        )
        query = InboxQuery(
            state=[State.DISPATCH] if view == "dispatch" else [],
            moderation=Moderation.PENDING if view == "moderation" else None,
        )
    listing = queries.inbox(session, actor=actor, query=query, settings=settings)
    keep = {k: v for k, v in params.items() if k != "page" and v}
    return render(
        request,
        "feedback/office/inbox.html",
        {
            "actor": actor,
            "title": title,
            "view": view,
            "tabs": _tabs(actor),
            "listing": listing,
            "query": query,
            "params": params,
            "keep": urlencode(keep),
            "states": {s.value: label for s, label in STATE_LABELS.items()},
            "categories": queries.categories(session),
            "moderation_labels": MODERATION_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "error": error,
            "pages": max(1, -(-listing.total // query.page_size)),
        },
    )


@router.get(BASE)
def inbox(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    gate = _gate(request, actor)
    if gate is not None:
        if actor.kind is ActorKind.OFFICIAL and perms.is_operator(actor):
            return RedirectResponse(f"{BASE}/tong-dai", status_code=303)
        return gate
    if not (perms.unit_agencies(actor) or perms.is_dispatcher(actor)):
        return RedirectResponse(f"{BASE}/kiem-duyet", status_code=303)
    return _list_page(request, session, actor, settings, view="inbox", title=N_("Hộp phản ánh"))


@router.get(f"{BASE}/dieu-phoi")
def dispatch_queue(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    gate = _gate(request, actor)
    if gate is not None:
        return gate
    if not perms.is_dispatcher(actor):
        raise NotFound()
    return _list_page(
        request, session, actor, settings, view="dispatch", title=N_("Hàng chờ điều phối")
    )


@router.get(f"{BASE}/kiem-duyet")
def moderation_queue(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    gate = _gate(request, actor)
    if gate is not None:
        return gate
    if not perms.is_moderator(actor):
        raise NotFound()
    return _list_page(
        request, session, actor, settings, view="moderation", title=N_("Chờ kiểm duyệt")
    )


# --- the hotline ----------------------------------------------------------------------------


def _category_or_none(session: Session, code: str) -> CategoryOut | None:
    if not code:
        return None
    try:
        return queries.get_category(session, code[:64])
    except NotFound:
        return None


def _hotline_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    done: Any = None,
    status_code: int = 200,
) -> Response:
    category = _category_or_none(session, _str(values.get("category_code")))
    if not values.get("submission_key"):
        values = {**values, "submission_key": uuid.uuid4().hex}
    return render(
        request,
        "feedback/office/hotline.html",
        {
            "actor": actor,
            "tabs": _tabs(actor),
            "groups": queries.category_groups(session),
            "category": category,
            "values": values,
            "errors": errors or {},
            "message": message,
            "done": done,
        },
        status_code=status_code,
    )


@router.get(f"{BASE}/tong-dai")
def hotline_form(request: Request, actor: PageActor, session: DbSession) -> Response:
    gate = _gate(request, actor, operator=True)
    if gate is not None:
        return gate
    values = {
        "category_code": _str(request.query_params.get("linh_vuc"))[:64],
        "channel": "phone",
        "submission_key": uuid.uuid4().hex,
    }
    return _hotline_page(request, session, actor, values=values)


def _attributes(form: Any, category: CategoryOut | None) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    if category is None:
        return answers
    for a in category.attributes:
        name = f"attr_{a.code}"
        if a.datatype == "multivaluelist":
            chosen = [v for v in form.getlist(name) if isinstance(v, str) and v]
            if chosen:
                answers[a.code] = chosen
        elif _str(form.get(name)).strip():
            answers[a.code] = _str(form.get(name)).strip()
    return answers


def _field_messages(
    request: Request, exc: DomainError | None, validation: ValidationError | None
) -> tuple[str, dict[str, str]]:
    locale = request_locale(request)
    fields: dict[str, str] = {}
    if exc is not None:
        for e in exc.errors:
            fields.setdefault(e.field, translate(e.message, locale, **e.params))
        return translate(exc.message, locale, **exc.params), fields
    assert validation is not None
    for detail in validation.errors():
        key = ".".join(str(p) for p in detail["loc"]) or "form"
        fields.setdefault(key, translate(N_("Giá trị không hợp lệ."), locale))
    return translate(
        N_("Phản ánh chưa hợp lệ; vui lòng xem lại các mục được đánh dấu."), locale
    ), fields


@router.post(f"{BASE}/tong-dai")
async def hotline_submit(
    request: Request, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    form = await request.form(max_files=0, max_fields=200)
    verify_csrf(request, _str(form.get(CSRF_FIELD)))
    gate = _gate(request, actor, operator=True)
    if gate is not None:
        return gate
    values: dict[str, Any] = {
        k: _str(form.get(k)).strip()
        for k in (
            "category_code",
            "description",
            "channel",
            "caller_name",
            "caller_phone",
            "caller_email",
            "address",
            "lat",
            "long",
            "submission_key",
        )
    }
    values["anonymous"] = form.get("anonymous") == "1"
    category = _category_or_none(session, values["category_code"])
    values["answers"] = _attributes(form, category)
    if form.get("choose") == "1":
        # Step one: the category is chosen; show its questions.
        return _hotline_page(request, session, actor, values=values)
    if category is None:
        message = translate(N_("Chọn lĩnh vực phản ánh."), request_locale(request))
        return _hotline_page(
            request,
            session,
            actor,
            values=values,
            errors={"category_code": message},
            message=message,
            status_code=422,
        )
    raw: dict[str, Any] = {
        "category_code": values["category_code"],
        "description": values["description"],
        "attributes": values["answers"],
        "channel": values["channel"] or "phone",
        "caller_name": values["caller_name"] or None,
        "caller_phone": values["caller_phone"] or None,
        "caller_email": values["caller_email"] or None,
        "anonymous": values["anonymous"],
        "address": values["address"] or None,
        "submission_key": values["submission_key"] or None,
    }
    lat, long = values["lat"].replace(",", "."), values["long"].replace(",", ".")
    try:
        raw["lat"] = float(lat) if lat else None
        raw["long"] = float(long) if long else None
    except ValueError:
        message, fields = _field_messages(
            request,
            Invalid(errors=[FieldError("lat", N_("Tọa độ phải là số thập phân, ví dụ 10,7769."))]),
            None,
        )
        return _hotline_page(
            request, session, actor, values=values, errors=fields, message=message, status_code=422
        )
    try:
        data = HotlineReportIn.model_validate(raw)
        with session.begin_nested():
            submitted = service.submit_hotline(session, actor=actor, data=data, settings=settings)
    except ValidationError as exc:
        message, fields = _field_messages(request, None, exc)
        return _hotline_page(
            request, session, actor, values=values, errors=fields, message=message, status_code=422
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        message, fields = _field_messages(request, exc, None)
        return _hotline_page(
            request,
            session,
            actor,
            values=values,
            errors=fields,
            message=message,
            status_code=exc.status,
        )
    fresh = {"channel": "phone", "submission_key": uuid.uuid4().hex}
    tracking = (
        f"{settings.base_url.rstrip('/')}/phan-anh/theo-doi/{submitted.token}"
        if submitted.token
        else None
    )
    return _hotline_page(
        request,
        session,
        actor,
        values=fresh,
        done={"public_id": submitted.public_id, "tracking": tracking},
    )


# --- one report -----------------------------------------------------------------------------


def _agencies(session: Session) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for kind in ("department", "police", "ward_committee"):
        page = places.search_agencies(
            session, AgencyQuery.model_validate({"kind": kind, "limit": 200})
        )
        found += [(a.code, a.name) for a in page.items]
    return found


def _report_page(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    public_id: str,
    *,
    error: tuple[str, str, dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    r = queries.staff_report(session, actor=actor, public_id=public_id, settings=settings)
    allowed = [a for a in ACTION_ORDER if a in r.allowed_actions]
    needs_agencies = any(a in allowed for a in (Action.ASSIGN, Action.REASSIGN))
    return render(
        request,
        "feedback/office/report.html",
        {
            "actor": actor,
            "tabs": _tabs(actor),
            "r": r,
            "actions": [(a.value, ACTION_LABELS[a.value]) for a in allowed],
            "agencies": _agencies(session) if needs_agencies else [],
            "candidates": (
                queries.merge_candidates(session, actor=actor, public_id=r.public_id)
                if Action.MERGE in allowed
                else []
            ),
            "error": error,
            "values": values or {},
            "done": request.query_params.get("ok"),
            "action_labels": ACTION_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "moderation_labels": MODERATION_LABELS,
            "answers": {
                a.code: (
                    r.attributes.get(a.code),
                    {v.key: v.name for v in a.values},
                )
                for a in r.category.attributes
            },
        },
        status_code=status_code,
    )


@router.get(BASE + "/{public_id}")
def report(
    request: Request, public_id: str, actor: PageActor, session: DbSession, settings: AppSettings
) -> Response:
    gate = _gate(request, actor)
    if gate is not None:
        return gate
    return _report_page(request, session, actor, settings, public_id[:24])


async def _photos(
    request: Request, form: Any, session: Session, actor: Actor, settings: Settings
) -> list[str]:
    shas = []
    store = get_blob_store(settings)
    for i, upload in enumerate(form.getlist("photos")):
        if isinstance(upload, str) or not getattr(upload, "filename", None):
            continue
        data = await upload.read()
        if not data:
            continue
        try:
            shas.append(
                service.store_photo(
                    session,
                    store,
                    actor=actor,
                    data=data,
                    filename=upload.filename,
                    declared_type=upload.content_type,
                    settings=settings,
                )
            )
        except Invalid as exc:
            raise Invalid(
                exc.message,
                errors=[FieldError(f"photos.{i}", exc.message, exc.params)],
                **exc.params,
            ) from None
    return shas


@router.post(BASE + "/{public_id}/thao-tac/{action}")
async def act(
    request: Request,
    public_id: str,
    action: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    form = await request.form(max_files=6, max_fields=100)
    try:
        verify_csrf(request, _str(form.get(CSRF_FIELD)))
        gate = _gate(request, actor)
        if gate is not None:
            return gate
        public_id = public_id[:24]
        try:
            wanted = Action(action)
        except ValueError:
            raise NotFound("Không có thao tác “{action}”.", action=action[:40]) from None
        values = {
            k: _str(form.get(k)).strip()
            for k in (
                "note",
                "agency_code",
                "committed_date",
                "into_public_id",
                "public_description",
            )
        }
        data: dict[str, Any] = {k: v or None for k, v in values.items()}
        if wanted is Action.MODERATE:
            data["approve"] = {"1": True, "0": False}.get(_str(form.get("approve")))
        if data.get("into_public_id"):
            data["into_public_id"] = str(data["into_public_id"]).upper()
        try:
            with session.begin_nested():
                if wanted is Action.RESOLVE:
                    data["photos"] = await _photos(request, form, session, actor, settings)
                service.act(
                    session,
                    actor=actor,
                    public_id=public_id,
                    action=wanted,
                    data=ActionIn.model_validate(data),
                    settings=settings,
                )
        except DomainError as exc:
            if exc.status == 404:
                raise
            message, fields = _field_messages(request, exc, None)
            return _report_page(
                request,
                session,
                actor,
                settings,
                public_id,
                error=(wanted.value, message, fields),
                values=values,
                status_code=exc.status,
            )
        except ValidationError as exc:
            message, fields = _field_messages(request, None, exc)
            return _report_page(
                request,
                session,
                actor,
                settings,
                public_id,
                error=(wanted.value, message, fields),
                values=values,
                status_code=422,
            )
        return RedirectResponse(f"{BASE}/{public_id}?ok={wanted.value}", status_code=303)
    finally:
        await form.close()


@router.get(BASE + "/{public_id}/anh/{sha256}")
def photo(
    request: Request,
    public_id: str,
    sha256: str,
    actor: PageActor,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    """A photo of a report, for staff who may see the report."""
    gate = _gate(request, actor)
    if gate is not None:
        return gate
    r = queries.staff_report(session, actor=actor, public_id=public_id[:24], settings=settings)
    if sha256 not in (r.photos + r.result_photos):
        raise NotFound("Không tìm thấy ảnh.")
    blob = blobs.get_blob(session, sha256)
    return Response(
        get_blob_store(settings).get(sha256),
        media_type=blob.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
