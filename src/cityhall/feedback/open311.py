"""Open311 GeoReport v2 documents (plain dicts and lists) and their XML form.

What a request document shows follows the public rule: a moderated (approved) report
shows its moderated description, location and photos; one waiting for moderation shows
only its status, service, agency and dates; a hidden one does not exist. Internal states
map onto ``open``/``closed`` with ``status_notes``; FixMyStreet's update statuses come
from :func:`cityhall.feedback.lifecycle.fms_status`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.localtime import to_local
from cityhall.errors import FieldError, Invalid, NotFound
from cityhall.feedback.lifecycle import ACTION_LABELS, STATE_LABELS, fms_status, open311_status
from cityhall.feedback.models import Category, CategoryGroup, Report, ReportEvent
from cityhall.feedback.schemas import CLOSED_STATES, OPEN_STATES, Moderation, State
from cityhall.feedback.service.common import token_digest
from cityhall.places import queries as places

SPEC = "http://wiki.open311.org/GeoReport_v2"
JURISDICTION = "tphcm.gov.vn"
MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
DISPATCH_NAME = "Tổ điều phối 1022 Thành phố Hồ Chí Minh"
# Events that the update feed and the notes show (not moderation, not the internal flag).
PUBLIC_EVENTS = frozenset(ACTION_LABELS) - {"moderate"}


def when(moment: datetime | None) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def parse_when(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            "{field} không đúng định dạng ISO-8601.",
            errors=[FieldError(field, "Ngày giờ ISO-8601, ví dụ 2026-12-01T00:00:00+07:00.")],
            field=field,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=to_local(datetime.now(UTC)).tzinfo)
    return moment


# --- discovery and services -----------------------------------------------------------------


def discovery(settings: Settings) -> dict[str, Any]:
    base = settings.base_url.rstrip("/") + "/open311/v2"
    return {
        "changeset": settings.open311_changeset,
        "contact": settings.open311_contact,
        "key_service": f"{settings.base_url.rstrip('/')}/can-bo/phan-anh (api-key: cityhall "
        "feedback api-key create)",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": settings.open311_changeset,
                "type": "production" if settings.environment == "production" else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def services(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Category, CategoryGroup.name)
        .join(CategoryGroup, CategoryGroup.code == Category.group_code)
        .where(Category.active.is_(True))
        .order_by(CategoryGroup.position, Category.position)
    ).all()
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description,
            "metadata": bool(c.attributes),
            "type": "realtime",
            "keywords": ", ".join(c.keywords),
            "group": group,
        }
        for c, group in rows
    ]


def service_definition(session: Session, code: str) -> dict[str, Any]:
    c = session.get(Category, code)
    if c is None or not c.active:
        raise NotFound("Không có dịch vụ (service_code) “{code}”.", code=code[:64])
    return {
        "service_code": c.code,
        "attributes": [
            {
                "variable": True,
                "code": a["code"],
                "datatype": a["datatype"],
                "required": bool(a.get("required")),
                "datatype_description": a.get("datatype_description") or _datatype_hint(a),
                "order": a["order"],
                "description": a["description"],
                "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])],
            }
            for a in c.attributes
        ],
    }


def _datatype_hint(a: dict[str, Any]) -> str:
    return {
        "string": "Một dòng chữ.",
        "text": "Đoạn văn.",
        "number": "Một con số.",
        "datetime": "Ngày giờ ISO-8601.",
        "singlevaluelist": "Chọn một giá trị.",
        "multivaluelist": "Chọn một hoặc nhiều giá trị: attribute[CODE][]=...",
    }[a["datatype"]]


# --- requests -------------------------------------------------------------------------------


class Lookups:
    """Names needed to render many requests, read once."""

    def __init__(self, session: Session, reports: list[Report]) -> None:
        self.categories = dict(session.execute(select(Category.code, Category.name)).all())
        codes = sorted({r.agency_code for r in reports if r.agency_code})
        self.agencies = {c: a.name for c, a in places.agencies_by_code(session, codes).items()}
        ids = [r.id for r in reports]
        self.last_note: dict[int, str] = {}
        self.events: dict[int, list[ReportEvent]] = {}
        if ids:
            for e in session.scalars(
                select(ReportEvent)
                .where(ReportEvent.report_id.in_(ids))
                .order_by(ReportEvent.report_id, ReportEvent.seq)
            ):
                self.events.setdefault(e.report_id, []).append(e)
                if e.public_note and e.note:
                    self.last_note[e.report_id] = e.note


def _photo_url(settings: Settings, r: Report) -> str | None:
    photos = list(r.result_photos) + list(r.photos)
    if r.moderation == Moderation.APPROVED.value and photos:
        base = settings.base_url.rstrip("/")
        return f"{base}/api/v1/feedback/reports/{r.public_id}/photos/{photos[0]}"
    return r.media_url if r.moderation == Moderation.APPROVED.value else None


def request_doc(
    r: Report, lookups: Lookups, settings: Settings, *, extensions: bool = False
) -> dict[str, Any]:
    state = State(r.state)
    public = r.moderation == Moderation.APPROVED.value
    note = lookups.last_note.get(r.id)
    status_notes = STATE_LABELS[state] + (f": {note}" if note and state in CLOSED_STATES else "")
    doc: dict[str, Any] = {
        "service_request_id": r.public_id,
        "status": open311_status(state),
        "status_notes": status_notes,
        "service_name": lookups.categories.get(r.category_code, r.category_code),
        "service_code": r.category_code,
        "description": r.public_description if public else None,
        "agency_responsible": lookups.agencies.get(r.agency_code or "", DISPATCH_NAME),
        "service_notice": (
            f"Hạn trả lời: {to_local(r.due_at):%d/%m/%Y %H:%M}"
            if r.due_at is not None and state in OPEN_STATES
            else None
        ),
        "requested_datetime": when(r.received_at),
        "updated_datetime": when(r.updated_at),
        "expected_datetime": when(r.due_at) if state in OPEN_STATES else None,
        "address": r.address if public else None,
        "address_id": r.address_id if public else None,
        "zipcode": None,
        "lat": r.lat if public else None,
        "long": r.long if public else None,
        "media_url": _photo_url(settings, r),
    }
    if extensions:
        doc["attributes"] = (
            [{"code": k, "value": v} for k, v in sorted(r.attributes.items())] if public else []
        )
        doc["extended_attributes"] = {
            "state": state.value,
            "state_label": STATE_LABELS[state],
            "channel": r.channel,
            "unit_code": r.unit_code,
            "agency_code": r.agency_code,
            "moderated": public,
            "overdue": state in OPEN_STATES
            and r.due_at is not None
            and r.due_at < datetime.now(UTC),
        }
        doc["notes"] = [
            {
                "datetime": when(e.at),
                "status": open311_status(e.to_state),
                "summary": ACTION_LABELS.get(e.action, e.action),
                "description": e.note if e.public_note else None,
            }
            for e in lookups.events.get(r.id, [])
            if e.action in PUBLIC_EVENTS
        ]
    return doc


def _visible() -> ColumnElement[bool]:
    return Report.moderation != Moderation.HIDDEN.value


def list_requests(
    session: Session, params: dict[str, str], settings: Settings
) -> list[dict[str, Any]]:
    """GET /requests with the standard filters and the ``page``/``page_size``/``extensions``
    extensions; every problem is an Invalid naming the parameter."""
    extensions = params.get("extensions", "").lower() == "true"
    page = _int(params, "page", 1, 1, 100_000)
    page_size = _int(params, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    stmt = select(Report).where(_visible())
    ids = [i.strip().upper() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        stmt = stmt.where(Report.public_id.in_(ids[:MAX_PAGE_SIZE]))
    else:
        now = datetime.now(UTC)
        start = parse_when(params["start_date"], "start_date") if params.get("start_date") else None
        end = parse_when(params["end_date"], "end_date") if params.get("end_date") else None
        if start is None and end is None:
            start, end = now - MAX_WINDOW, now
        elif start is None:
            assert end is not None
            start = end - MAX_WINDOW
        elif end is None:
            end = start + MAX_WINDOW
        if end < start:
            raise Invalid(
                "end_date trước start_date.",
                errors=[FieldError("end_date", "end_date phải sau start_date.")],
            )
        if end - start > MAX_WINDOW:
            raise Invalid(
                "Khoảng thời gian không được quá 90 ngày.",
                errors=[FieldError("end_date", "start_date và end_date cách nhau tối đa 90 ngày.")],
            )
        stmt = stmt.where(Report.received_at >= start, Report.received_at <= end)
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        if codes:
            stmt = stmt.where(Report.category_code.in_(codes))
        statuses = {s.strip().lower() for s in params.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Invalid(
                "status phải là open hoặc closed.",
                errors=[FieldError("status", "status phải là open hoặc closed.")],
            )
        if statuses == {"open"}:
            stmt = stmt.where(Report.state.in_([s.value for s in OPEN_STATES]))
        elif statuses == {"closed"}:
            stmt = stmt.where(Report.state.in_([s.value for s in CLOSED_STATES]))
    reports = list(
        session.scalars(
            stmt.order_by(Report.received_at.desc(), Report.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    )
    lookups = Lookups(session, reports)
    return [request_doc(r, lookups, settings, extensions=extensions) for r in reports]


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise Invalid(
            "{name} phải là số nguyên từ {low} đến {high}.",
            errors=[FieldError(name, f"{name}: từ {low} đến {high}.")],
            name=name,
            low=low,
            high=high,
        )
    return value


def get_request(
    session: Session, public_id: str, settings: Settings, *, extensions: bool = False
) -> list[dict[str, Any]]:
    r = session.scalars(
        select(Report).where(Report.public_id == public_id.strip().upper()[:24], _visible())
    ).one_or_none()
    if r is None:
        raise NotFound("Không có yêu cầu (service_request_id) “{id}”.", id=public_id[:24])
    return [request_doc(r, Lookups(session, [r]), settings, extensions=extensions)]


def token_lookup(session: Session, token: str) -> list[dict[str, Any]]:
    public_id = session.scalar(
        select(Report.public_id).where(Report.token_hash == token_digest(token[:100]))
    )
    if public_id is None:
        raise NotFound("Không có mã theo dõi (token) này.")
    return [{"service_request_id": public_id, "token": token}]


def updates(session: Session, params: dict[str, str], settings: Settings) -> list[dict[str, Any]]:
    """FixMyStreet's ``servicerequestupdates``: the changes between start and end."""
    now = datetime.now(UTC)
    start = parse_when(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_when(params["end_date"], "end_date") if params.get("end_date") else None
    end = end or now
    start = start or end - timedelta(days=1)
    if end < start or end - start > MAX_WINDOW:
        raise Invalid(
            "Khoảng thời gian không hợp lệ (tối đa 90 ngày).",
            errors=[FieldError("end_date", "start_date ≤ end_date, cách nhau tối đa 90 ngày.")],
        )
    rows = session.execute(
        select(ReportEvent, Report.public_id, Report.moderation)
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            ReportEvent.at >= start,
            ReportEvent.at <= end,
            ReportEvent.action.in_(sorted(PUBLIC_EVENTS - {"submit"})),
            _visible(),
        )
        .order_by(ReportEvent.at, ReportEvent.id)
        .limit(MAX_PAGE_SIZE)
    ).all()
    return [
        {
            "update_id": str(e.id),
            "service_request_id": public_id,
            "status": fms_status(e.to_state, e.action),
            "description": (e.note if e.public_note and e.note else None)
            or ACTION_LABELS.get(e.action, e.action),
            "updated_datetime": when(e.at),
            "media_url": (
                f"{settings.base_url.rstrip('/')}/api/v1/feedback/reports/{public_id}/photos/"
                f"{e.photos[0]}"
                if e.photos and moderation == Moderation.APPROVED.value
                else None
            ),
        }
        for e, public_id, moderation in rows
    ]


# --- XML ------------------------------------------------------------------------------------

# The element name of one item of each list, by the list's element.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
}


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = ET.SubElement(parent, key)
            _fill(child, item)
    elif isinstance(value, list):
        tag = ITEM_TAGS.get(parent.tag, "item")
        for item in value:
            _fill(ET.SubElement(parent, tag), item)
    elif value is None:
        return
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    else:
        parent.text = str(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    data: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return data
