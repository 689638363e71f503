"""The one-stop lifecycle's write path: submitting a dossier and every action on it.

Each use case is one function; ``act`` only dispatches an action name to its function.
Every change locks the dossier row (``FOR UPDATE``), appends an event (the tracking sheet),
writes an audit event and queues the applicant's notifications, all in the caller's
transaction: a change exists with its history, audit and messages, or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.catalog import queries as catalog
from cityhall.catalog.schemas import Channel, Level, OnlineMode, ProcedureDetail
from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind, Role
from cityhall.core.blobs import service as blobs
from cityhall.core.calendar.rules import TimeUnit, WorkingCalendar
from cityhall.core.calendar.service import load_calendar
from cityhall.core.codes import format_code
from cityhall.core.i18n import N_
from cityhall.dossiers import clock, notices
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    ACTION_LABELS,
    ALLOWED_FROM,
    NATIONAL_STATUS,
    STATE_LABELS,
    WITHDRAW_AT_ONCE,
    Action,
    State,
    possible,
)
from cityhall.dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierPause,
    DossierTask,
    IdempotencyKey,
)
from cityhall.dossiers.schemas import ActionIn, DocumentIn, DossierSubmit
from cityhall.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from cityhall.identity import service as identity
from cityhall.places import queries as places


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ctx:
    """What every use case needs: the calendar, the rules of the dossier's version, now."""

    session: Session
    actor: Actor
    settings: Settings
    calendar: WorkingCalendar
    now: datetime = field(default_factory=_now)


def _ctx(session: Session, actor: Actor, settings: Settings) -> Ctx:
    return Ctx(session, actor, settings, load_calendar(session, settings))


def _limit(version: ProcedureDetail) -> clock.Limit:
    return clock.Limit(Decimal(str(version.time_limit.value)), version.time_limit.unit)


def actor_ref(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id or '-'}"[:64]


def version_of(session: Session, version_id: int) -> ProcedureDetail:
    try:
        return _VERSIONS[version_id]
    except KeyError:
        version = catalog.get_version(session, version_id)
        if len(_VERSIONS) < 2048:
            _VERSIONS[version_id] = version
        return version


_VERSIONS: dict[int, ProcedureDetail] = {}


@lru_cache(maxsize=512)
def _form_validator(version_id: int, schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FormatChecker())


def form_errors(version: ProcedureDetail, form: dict[str, Any]) -> list[FieldError]:
    """Every problem of ``form`` against the version's JSON Schema, each naming its field
    (``form.<name>``), so a page can show them all at once with the other problems."""
    return _form_errors(version, form)


def _form_errors(version: ProcedureDetail, form: dict[str, Any]) -> list[FieldError]:
    validator = _form_validator(version.version.id, json.dumps(version.form_schema, sort_keys=True))
    errors = []
    for err in sorted(validator.iter_errors(form), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = ".".join(p for p in (path, missing) if p)
            title = version.form_schema.get("properties", {}).get(missing, {}).get("title", missing)
            errors.append(FieldError(f"form.{path}", "Chưa nhập {title}.", {"title": title}))
            continue
        if err.validator == "additionalProperties":
            errors.append(
                FieldError(f"form.{path}" if path else "form", "Có trường không thuộc tờ khai.")
            )
            continue
        prop = (
            version.form_schema.get("properties", {}).get(str(err.absolute_path[0]), {})
            if (err.absolute_path)
            else {}
        )
        title = prop.get("title", path)
        errors.append(
            FieldError(
                f"form.{path}" if path else "form",
                "{title}: giá trị không hợp lệ ({reason}).",
                {"title": title, "reason": err.message[:200]},
            )
        )
    return errors


# --- codes ---------------------------------------------------------------------------------


# Plain SQL: SQLAlchemy cannot cache the compiled ON CONFLICT form, and this runs on every
# submission (recompiling it cost ~1.4 ms each).
_NEXT_SEQ = text(
    "INSERT INTO dossier_code_counters (agency_code, day, last_seq) VALUES (:agency, :day, 1) "
    "ON CONFLICT (agency_code, day) DO UPDATE SET last_seq = dossier_code_counters.last_seq + 1 "
    "RETURNING last_seq"
)


def next_code(session: Session, agency_code: str, calendar: WorkingCalendar, at: datetime) -> str:
    """The next code of ``agency_code`` for ``at``'s local day. The counter row is locked
    until the transaction ends, so concurrent submissions to one desk get distinct
    sequences; a rolled-back transaction gives its number back before anyone saw it."""
    day = calendar.local(at).date()
    seq = session.execute(_NEXT_SEQ, {"agency": agency_code, "day": day}).scalar_one()
    return format_code(agency_code, day, seq)


# --- events, audit, notifications -------------------------------------------------------------


def _event(
    ctx: Ctx,
    d: Dossier,
    action: str,
    from_state: str | None,
    *,
    note: str | None = None,
    from_unit: str | None = None,
    to_unit: str | None = None,
    from_agency: str | None = None,
    to_agency: str | None = None,
    to_official_id: int | None = None,
    due_at: datetime | None = None,
    timeliness: str | None = None,
    data: dict[str, Any] | None = None,
) -> DossierEvent:
    d.last_event_seq += 1
    d.national_status = NATIONAL_STATUS[State(d.state)]
    d.updated_at = ctx.now
    event = DossierEvent(
        dossier_id=d.id,
        seq=d.last_event_seq,
        action=action,
        from_state=from_state,
        to_state=d.state,
        at=ctx.now,
        actor_kind=ctx.actor.kind.value,
        actor_id=ctx.actor.id,
        actor_label=ctx.actor.label[:200],
        from_agency_code=from_agency,
        from_unit=from_unit,
        to_agency_code=to_agency,
        to_unit=to_unit,
        to_official_id=to_official_id,
        due_at=due_at,
        timeliness=timeliness,
        note=note,
        data=json.loads(json.dumps(data or {}, default=str)),
    )
    ctx.session.add(event)
    audit.record(
        ctx.session,
        actor=ctx.actor,
        action=f"dossier.{action}",
        object_type="dossier",
        object_id=d.code,
        subject_id=d.applicant_pin,
        purpose="Giải quyết thủ tục hành chính",
        data={"from": from_state, "to": d.state, "seq": event.seq, **(data or {})},
    )
    return event


def _notify(ctx: Ctx, d: Dossier, version: ProcedureDetail, event: DossierEvent) -> None:
    notices.status_changed(ctx.session, ctx.calendar, d, version, event, ctx.settings)


# --- submitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    dossier: Dossier
    replayed: bool  # an Idempotency-Key seen before: the dossier it created


def _request_hash(data: DossierSubmit) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


def _idempotent_replay(
    session: Session, actor: Actor, key: str, data: DossierSubmit
) -> Dossier | None:
    ref = actor_ref(actor)
    # Serialise submissions that carry the same key: the second waits for the first to
    # commit, then finds its key row.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"), {"k": f"{ref}|{key}"}
    )
    row = session.get(IdempotencyKey, (ref, key))
    if row is None:
        return None
    if row.request_hash != _request_hash(data):
        raise Conflict(
            "Khóa Idempotency-Key này đã được dùng cho một hồ sơ khác; hãy dùng khóa mới.",
            errors=[FieldError("Idempotency-Key", "Khóa đã được dùng cho yêu cầu khác.")],
        )
    dossier = session.get(Dossier, row.dossier_id)
    assert dossier is not None
    return dossier


def _applicant_errors(
    session: Session, actor: Actor, data: DossierSubmit
) -> tuple[list[FieldError], int | None]:
    errors = [
        FieldError("applicant.id_number", p)
        for p in identity.pin_problems(data.applicant.id_number)
    ]
    citizen_id: int | None = None
    if actor.kind is ActorKind.CITIZEN:
        me = identity.get_own_citizen(session, actor=actor)
        citizen_id = me.id
        if data.applicant.id_number != me.pin:
            errors.append(
                FieldError(
                    "applicant.id_number",
                    "Số định danh phải là của chính người đăng nhập (lấy từ định danh điện tử).",
                )
            )
    return errors, citizen_id


def _competent(
    session: Session, version: ProcedureDetail, data: DossierSubmit
) -> tuple[str, str, list[FieldError]]:
    """(unit code, competent agency code, problems)."""
    if version.level is Level.CITY:
        assert version.agency_code
        return "79", version.agency_code, []
    unit = data.unit_code or data.applicant.address.unit_code
    where = "unit_code" if data.unit_code else "applicant.address.unit_code"
    try:
        agency = places.ward_agency(session, unit)
    except NotFound:
        return (
            unit,
            "",
            [
                FieldError(
                    where, "Không có phường, xã hoặc đặc khu hiện hành mã {code}.", {"code": unit}
                )
            ],
        )
    return unit, agency.code, []


def _document_rows(
    session: Session,
    version: ProcedureDetail,
    documents: list[DocumentIn],
    *,
    source: str,
    field_prefix: str,
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    known = {d.code: d for d in version.documents}
    rows, errors = [], []
    for i, doc in enumerate(documents):
        where = f"{field_prefix}.{i}"
        if doc.code not in known:
            errors.append(
                FieldError(
                    f"{where}.code",
                    "Thủ tục không có thành phần hồ sơ mã {code}.",
                    {"code": doc.code},
                )
            )
            continue
        try:
            blobs.get_blob(session, doc.sha256)
        except NotFound:
            errors.append(FieldError(f"{where}.sha256", "Chưa tải lên tệp có mã SHA-256 này."))
            continue
        rows.append(
            {
                "document_code": doc.code,
                "name": known[doc.code].name,
                "source": source,
                "blob_sha256": bytes.fromhex(doc.sha256),
                "pages": doc.pages,
            }
        )
    return rows, errors


def _may_submit(actor: Actor, channel: str) -> str | None:
    """The receiving desk's agency for an official's counter/post intake; raises if the
    actor may not submit on this channel."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated("Cần đăng nhập bằng định danh điện tử để nộp hồ sơ.")
    if actor.kind is ActorKind.CITIZEN:
        if channel != Channel.ONLINE:
            raise Forbidden("Công dân nộp hồ sơ trực tuyến (channel online).")
        return None
    if actor.kind is ActorKind.OFFICIAL:
        desks = sorted(perms.agencies(actor, Role.INTAKE_OFFICER))
        if not desks:
            raise Forbidden("Chỉ cán bộ tiếp nhận được nhập hồ sơ tại quầy.")
        if channel == Channel.ONLINE:
            raise Forbidden("Cán bộ nhập hồ sơ nộp tại quầy hoặc qua bưu chính.")
        return desks[0]
    raise Forbidden()


def submit_dossier(
    session: Session,
    *,
    actor: Actor,
    data: DossierSubmit,
    settings: Settings,
    idempotency_key: str | None = None,
) -> Submitted:
    """A citizen's online submission, or an intake officer entering a counter/post dossier
    on an applicant's behalf (with scans). The dossier starts ``submitted`` (waiting for
    intake), its code given by the receiving desk."""
    desk = _may_submit(actor, data.channel)
    if idempotency_key is not None:
        replay = _idempotent_replay(session, actor, idempotency_key, data)
        if replay is not None:
            return Submitted(replay, True)
    ctx = _ctx(session, actor, settings)
    day = ctx.calendar.local(ctx.now).date()
    try:
        found = catalog.search_version_id(session, data.procedure_code, day)
    except NotFound as exc:
        raise Invalid(
            exc.message,
            errors=[FieldError("procedure_code", exc.message, exc.params)],
            **exc.params,
        ) from None
    version = version_of(session, found)
    errors: list[FieldError] = []
    if data.channel not in version.channels:
        errors.append(
            FieldError(
                "channel",
                "Thủ tục này không nhận hồ sơ qua kênh {channel}.",
                {"channel": data.channel},
            )
        )
    if data.channel == "online" and version.online_mode is OnlineMode.NONE:
        errors.append(FieldError("channel", "Thủ tục này chưa cung cấp dịch vụ công trực tuyến."))
    applicant_errors, citizen_id = _applicant_errors(session, actor, data)
    errors += applicant_errors
    unit_code, competent, unit_errors = _competent(session, version, data)
    errors += unit_errors
    # The address's ward was checked already when it is the competent one.
    address_checked = any(e.field == "applicant.address.unit_code" for e in errors) or (
        version.level is Level.WARD and unit_code == data.applicant.address.unit_code
    )
    if not address_checked and not places.unit_exists(session, data.applicant.address.unit_code):
        errors.append(
            FieldError(
                "applicant.address.unit_code",
                "Không có phường, xã hoặc đặc khu hiện hành mã {code}.",
                {"code": data.applicant.address.unit_code},
            )
        )
    errors += _form_errors(version, data.form)
    source = "upload" if data.channel == "online" else "scan"
    doc_rows, doc_errors = _document_rows(
        session, version, data.documents, source=source, field_prefix="documents"
    )
    errors += doc_errors
    if errors:
        raise Invalid("Hồ sơ chưa hợp lệ: {count} lỗi.", errors=errors, count=len(errors))

    if citizen_id is None:
        citizen_id = identity.ensure_citizen(
            session,
            actor=actor,
            pin=data.applicant.id_number,
            full_name=data.applicant.full_name,
        ).id
    receiving = desk or competent
    limit = _limit(version)
    dossier = Dossier(
        code=next_code(session, receiving, ctx.calendar, ctx.now),
        procedure_code=version.code,
        procedure_version_id=version.version.id,
        channel=data.channel,
        state=State.SUBMITTED.value,
        national_status=NATIONAL_STATUS[State.SUBMITTED],
        applicant_citizen_id=citizen_id,
        applicant_pin=data.applicant.id_number,
        applicant_name=data.applicant.full_name,
        applicant=data.applicant.model_dump(mode="json"),
        form=data.form,
        unit_code=unit_code,
        receiving_agency_code=receiving,
        competent_agency_code=competent,
        submitted_by=actor_ref(actor),
        current_step=0,
        submitted_at=ctx.now,
        received_at=ctx.now,
        due_at=clock.due(ctx.calendar, ctx.now, limit),
        step_due_at=clock.step_due(ctx.calendar, ctx.now, limit, version.steps, 0),
        last_event_seq=0,
    )
    session.add(dossier)
    session.flush()
    event = _event(
        ctx,
        dossier,
        "submit",
        None,
        to_agency=receiving,
        to_unit=version.steps[0].unit,
        due_at=dossier.step_due_at,
        data={"channel": data.channel, "documents": len(doc_rows)},
    )
    for row in doc_rows:
        session.add(
            DossierDocument(
                dossier_id=dossier.id, added_by=actor_ref(actor), event_seq=event.seq, **row
            )
        )
    if idempotency_key is not None:
        session.add(
            IdempotencyKey(
                actor_ref=actor_ref(actor),
                key=idempotency_key,
                request_hash=_request_hash(data),
                dossier_id=dossier.id,
            )
        )
    session.flush()
    _notify(ctx, dossier, version, event)
    return Submitted(dossier, False)


# --- acting ----------------------------------------------------------------------------------


def load_for_update(session: Session, actor: Actor, code: str) -> tuple[Dossier, perms.Facts]:
    """The dossier, locked, if ``actor`` may see it; NotFound otherwise (never Forbidden:
    another unit's dossier does not exist for you)."""
    dossier = session.scalars(
        select(Dossier).where(Dossier.code == code).with_for_update()
    ).one_or_none()
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ {code}.", code=code)
    facts = facts_of(session, dossier)
    if not perms.can_see(actor, facts):
        raise NotFound("Không tìm thấy hồ sơ {code}.", code=code)
    return dossier, facts


def all_task_agencies(session: Session, dossier_id: int) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(DossierTask.agency_code).where(DossierTask.dossier_id == dossier_id)
        ).all()
    )


def facts_of(session: Session, d: Dossier, *, fresh: bool = False) -> perms.Facts:
    """What permissions depend on; ``fresh``: a dossier just created (it has no tasks)."""
    tasks = (
        []
        if fresh
        else session.execute(
            select(DossierTask.agency_code, DossierTask.answered_at).where(
                DossierTask.dossier_id == d.id
            )
        ).all()
    )
    return perms.Facts(
        competent=d.competent_agency_code,
        receiving=d.receiving_agency_code,
        owner_citizen_id=d.applicant_citizen_id,
        handler_id=d.handler_official_id,
        task_agencies=frozenset(a for a, answered in tasks if answered is None),
        partners=frozenset(a for a, _ in tasks),
    )


def allowed_actions(actor: Actor, d: Dossier, facts: perms.Facts) -> list[Action]:
    state = State(d.state)
    return [a for a in possible(state) if perms.may(actor, a, facts)]


def _state_conflict(d: Dossier, action: Action, allowed: list[Action]) -> Conflict:
    state = State(d.state)
    return Conflict(
        "Không thể {action} khi hồ sơ đang ở trạng thái “{state}”. Thao tác được phép: {allowed}.",
        extensions={
            "state": state.value,
            "state_label": STATE_LABELS[state],
            "allowed_actions": [a.value for a in allowed],
        },
        action=ACTION_LABELS[action].lower(),
        state=STATE_LABELS[state],
        allowed=", ".join(a.value for a in allowed) or "không có",
    )


def _required_note(value: str | None, field_name: str, message: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise Invalid(message, errors=[FieldError(field_name, message)])
    return cleaned


def _reasons(data: ActionIn) -> list[str]:
    reasons = [r.strip() for r in data.reasons if r.strip()]
    if not reasons and data.note and data.note.strip():
        reasons = [data.note.strip()]
    if not reasons:
        message = N_("Phải nêu rõ lý do.")
        raise Invalid(message, errors=[FieldError("reasons", message)])
    return reasons


Handler = Callable[[Ctx, Dossier, ProcedureDetail, perms.Facts, ActionIn], DossierEvent]


def act(
    session: Session,
    *,
    actor: Actor,
    code: str,
    action: str,
    data: ActionIn,
    settings: Settings,
) -> Dossier:
    """Take ``action`` on dossier ``code``: 404 if the actor may not see it, 409 naming the
    state and the allowed actions if the lifecycle forbids it now, 403 if the actor's role
    does not allow it."""
    try:
        wanted = Action(action)
    except ValueError:
        raise NotFound(
            "Không có thao tác “{action}”. Các thao tác: {known}.",
            action=action[:40],
            known=", ".join(a.value for a in Action),
        ) from None
    dossier, facts = load_for_update(session, actor, code)
    allowed = allowed_actions(actor, dossier, facts)
    if State(dossier.state) not in ALLOWED_FROM[wanted]:
        raise _state_conflict(dossier, wanted, allowed)
    if not perms.may(actor, wanted, facts):
        raise Forbidden(
            "Bạn không có quyền “{action}” hồ sơ này.", action=ACTION_LABELS[wanted].lower()
        )
    ctx = _ctx(session, actor, settings)
    version = version_of(session, dossier.procedure_version_id)
    event = HANDLERS[wanted](ctx, dossier, version, facts, data)
    session.flush()
    _notify(ctx, dossier, version, event)
    return dossier


def _step_unit(version: ProcedureDetail, index: int) -> str:
    return version.steps[min(index, len(version.steps) - 1)].unit


def _enter_step(ctx: Ctx, d: Dossier, version: ProcedureDetail, index: int) -> None:
    d.current_step = index
    d.step_due_at = clock.step_due(
        ctx.calendar, d.received_at, _limit(version), version.steps, index
    )


def _accept(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if data.missing:
        raise Invalid(
            "Hồ sơ còn thiếu thành phần: hãy dùng “yêu cầu bổ sung” thay cho “tiếp nhận”.",
            errors=[FieldError("missing", "Tiếp nhận không kèm danh sách thiếu.")],
        )
    before = d.state
    finished_due = d.step_due_at
    if d.channel != Channel.ONLINE and d.receiving_agency_code != d.competent_agency_code:
        finished_due = clock.paper_handover_due(ctx.calendar, d.received_at)
    d.state = State.RECEIVED.value
    _enter_step(ctx, d, version, 1)
    return _event(
        ctx,
        d,
        Action.ACCEPT.value,
        before,
        note=data.note,
        from_agency=d.receiving_agency_code,
        from_unit=_step_unit(version, 0),
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, 1),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"form": "01", "appointment": d.due_at.isoformat()},
    )


def _request_supplement(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    missing = [m.strip() for m in data.missing if m.strip()]
    if not missing:
        message = N_("Phải liệt kê một lần đầy đủ mọi thành phần cần bổ sung.")
        raise Invalid(message, errors=[FieldError("missing", message)])
    known = {doc.code: doc.name for doc in version.documents}
    items = [known.get(m, m) for m in missing]
    before = d.state
    if State(before) is State.SUBMITTED:
        if not perms._at(
            ctx.actor, (Role.INTAKE_OFFICER,), d.receiving_agency_code, d.competent_agency_code
        ):
            raise Forbidden("Chỉ bộ phận tiếp nhận được yêu cầu bổ sung khi tiếp nhận.")
        d.state = State.INTAKE_SUPPLEMENT.value
        return _event(
            ctx,
            d,
            Action.REQUEST_SUPPLEMENT.value,
            before,
            note=data.note,
            data={"form": "02", "missing": items, "stage": "intake"},
        )
    # During appraisal: the handler or the head; the clock restarts or pauses (per
    # procedure), and the request is due within 3 working days of receipt.
    if not (
        perms._is_handler(ctx.actor, facts)
        or perms._at(ctx.actor, (Role.APPROVER,), d.competent_agency_code)
    ):
        raise Forbidden("Chỉ cán bộ thụ lý hoặc lãnh đạo được yêu cầu bổ sung khi thẩm định.")
    limit_at = clock.supplement_request_limit(ctx.calendar, d.received_at)
    ctx.session.add(
        DossierPause(
            dossier_id=d.id,
            reason="supplement",
            mode=version.supplement_clock.value,
            started_at=ctx.now,
            due_before=d.due_at,
        )
    )
    d.state = State.SUPPLEMENT_REQUESTED.value
    return _event(
        ctx,
        d,
        Action.REQUEST_SUPPLEMENT.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=_step_unit(version, d.current_step),
        due_at=limit_at,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, limit_at),
        data={
            "form": "02",
            "missing": items,
            "stage": "appraisal",
            "clock": version.supplement_clock.value,
        },
    )


def _supplement(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    rows, errors = _document_rows(
        ctx.session,
        version,
        data.documents,
        source="upload" if perms.is_owner(ctx.actor, facts) else "scan",
        field_prefix="documents",
    )
    if errors:
        raise Invalid("Hồ sơ bổ sung chưa hợp lệ.", errors=errors)
    if not rows and not (data.note or "").strip():
        message = N_("Hãy đính kèm giấy tờ bổ sung hoặc ghi rõ nội dung bổ sung.")
        raise Invalid(message, errors=[FieldError("documents", message)])
    before = d.state
    limit = _limit(version)
    extra: dict[str, Any] = {"documents": len(rows)}
    if State(before) is State.INTAKE_SUPPLEMENT:
        # Not yet received: the clock starts when the dossier is complete.
        d.state = State.SUBMITTED.value
        d.received_at = ctx.now
        d.due_at = clock.due(ctx.calendar, ctx.now, limit)
        _enter_step(ctx, d, version, 0)
    else:
        pause = ctx.session.scalars(
            select(DossierPause)
            .where(DossierPause.dossier_id == d.id, DossierPause.ended_at.is_(None))
            .order_by(DossierPause.id.desc())
            .limit(1)
        ).one()
        pause.ended_at = ctx.now
        if pause.mode == "restart":
            d.received_at = ctx.now
            d.due_at = clock.due(ctx.calendar, ctx.now, limit)
            _enter_step(ctx, d, version, d.current_step)
        else:
            paused = ctx.calendar.working_time_between(pause.started_at, ctx.now)
            d.due_at = clock.extend(ctx.calendar, d.due_at, paused)
            if d.step_due_at is not None:
                d.step_due_at = clock.extend(ctx.calendar, d.step_due_at, paused)
            extra["paused_hours"] = round(paused.total_seconds() / 3600, 2)
        pause.due_after = d.due_at
        extra["clock"] = pause.mode
        d.state = State.IN_PROGRESS.value
    event = _event(
        ctx,
        d,
        Action.SUPPLEMENT.value,
        before,
        note=data.note,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        data={**extra, "appointment": d.due_at.isoformat()},
    )
    for row in rows:
        ctx.session.add(
            DossierDocument(
                dossier_id=d.id, added_by=actor_ref(ctx.actor), event_seq=event.seq, **row
            )
        )
    return event


def _refuse(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    reasons = _reasons(data)
    before = d.state
    if State(before) is State.SUBMITTED:
        if not perms._at(
            ctx.actor, (Role.INTAKE_OFFICER,), d.receiving_agency_code, d.competent_agency_code
        ):
            raise Forbidden("Chỉ bộ phận tiếp nhận được từ chối tiếp nhận hồ sơ.")
        d.state = State.NOT_ACCEPTED.value
        d.closed_at = ctx.now
        return _event(
            ctx,
            d,
            Action.REFUSE.value,
            before,
            note=data.note,
            data={"form": "03", "reasons": reasons, "stage": "intake"},
        )
    return _decide(ctx, d, version, facts, data, outcome="refused", reasons=reasons)


def _decide(
    ctx: Ctx,
    d: Dossier,
    version: ProcedureDetail,
    facts: perms.Facts,
    data: ActionIn,
    *,
    outcome: str,
    reasons: list[str] | None = None,
) -> DossierEvent:
    step = version.steps[d.current_step]
    if step.role is not Role.APPROVER:
        raise Conflict(
            "Hồ sơ đang ở bước “{step}”: chỉ được phê duyệt hoặc từ chối ở bước quyết định.",
            extensions={"state": d.state, "step": step.code},
            step=step.name,
        )
    if not perms._at(ctx.actor, (Role.APPROVER,), d.competent_agency_code):
        raise Forbidden("Chỉ lãnh đạo cơ quan có thẩm quyền được quyết định.")
    if facts.task_agencies:
        raise Conflict(
            "Còn cơ quan liên thông chưa trả lời: {agencies}.",
            extensions={"state": d.state, "waiting_for": sorted(facts.task_agencies)},
            agencies=", ".join(sorted(facts.task_agencies)),
        )
    before = d.state
    finished_due = d.step_due_at
    d.state = State.RESOLVED.value
    d.outcome = outcome
    d.resolved_at = ctx.now
    d.result_note = (data.note or "").strip() or None
    next_index = min(d.current_step + 1, len(version.steps) - 1)
    _enter_step(ctx, d, version, next_index)
    return _event(
        ctx,
        d,
        Action.APPROVE.value if outcome == "approved" else Action.REFUSE.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=step.unit,
        to_agency=d.receiving_agency_code,
        to_unit=_step_unit(version, next_index),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={
            "outcome": outcome,
            "reasons": reasons or [],
            "dossier_timeliness": clock.timeliness(ctx.calendar, ctx.now, d.due_at),
            "stage": "decision",
        },
    )


def _approve(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    return _decide(ctx, d, version, facts, data, outcome="approved")


def _assign(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if data.handler_id is None:
        message = N_("Chọn cán bộ thụ lý.")
        raise Invalid(message, errors=[FieldError("handler_id", message)])
    handler = identity.official_as_actor(ctx.session, data.handler_id)
    if handler is None or not (
        perms.agencies(handler, Role.HANDLER, Role.APPROVER) & {d.competent_agency_code}
    ):
        message = N_(
            "Cán bộ này không phải cán bộ thụ lý đang hoạt động của cơ quan có thẩm quyền."
        )
        raise Invalid(message, errors=[FieldError("handler_id", message)])
    before = d.state
    previous = d.handler_official_id
    d.handler_official_id = data.handler_id
    if State(before) is State.RECEIVED:
        d.state = State.IN_PROGRESS.value
    return _event(
        ctx,
        d,
        Action.ASSIGN.value,
        before,
        note=data.note,
        from_agency=d.competent_agency_code,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        to_official_id=data.handler_id,
        due_at=d.step_due_at,
        data={"handler": handler.label, "previous_handler_id": previous},
    )


def _forward(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    step = version.steps[d.current_step]
    nxt = d.current_step + 1
    if step.role is Role.APPROVER or nxt >= len(version.steps):
        raise Conflict(
            "Bước “{step}” kết thúc bằng phê duyệt hoặc từ chối, không chuyển tiếp.",
            extensions={"state": d.state, "step": step.code},
            step=step.name,
        )
    if version.steps[nxt].role is Role.APPROVER and facts.task_agencies:
        raise Conflict(
            "Còn cơ quan liên thông chưa trả lời: {agencies}.",
            extensions={"state": d.state, "waiting_for": sorted(facts.task_agencies)},
            agencies=", ".join(sorted(facts.task_agencies)),
        )
    finished_due = d.step_due_at
    _enter_step(ctx, d, version, nxt)
    return _event(
        ctx,
        d,
        Action.FORWARD.value,
        d.state,
        note=data.note,
        from_agency=d.competent_agency_code,
        from_unit=step.unit,
        to_agency=d.competent_agency_code,
        to_unit=version.steps[nxt].unit,
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"from_step": step.code, "to_step": version.steps[nxt].code},
    )


def _transfer(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    joined = version.inter_agency
    if joined is None:
        raise Conflict("Thủ tục này không phải thủ tục liên thông.", extensions={"state": d.state})
    if all_task_agencies(ctx.session, d.id):
        raise Conflict("Hồ sơ đã được chuyển liên thông.", extensions={"state": d.state})
    limit = _limit(version)
    sent = []
    for partner in joined.partners:
        due_at = clock.due(ctx.calendar, ctx.now, limit, partner.share)
        ctx.session.add(
            DossierTask(
                dossier_id=d.id,
                agency_code=partner.agency,
                task=partner.task,
                sent_at=ctx.now,
                due_at=due_at,
            )
        )
        sent.append({"agency": partner.agency, "task": partner.task, "due_at": due_at.isoformat()})
    return _event(
        ctx,
        d,
        Action.TRANSFER.value,
        d.state,
        note=data.note,
        from_agency=joined.lead,
        from_unit=_step_unit(version, d.current_step),
        to_agency=joined.partners[0].agency if len(joined.partners) == 1 else None,
        data={"lead": joined.lead, "partners": sent, "electronic": True},
    )


def _answer(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    mine = perms.agencies(ctx.actor, Role.HANDLER, Role.APPROVER) & facts.task_agencies
    if data.agency_code:
        if data.agency_code not in mine:
            message = N_("Cơ quan này không có phần việc liên thông nào đang chờ của bạn.")
            raise Invalid(message, errors=[FieldError("agency_code", message)])
        mine = {data.agency_code}
    agency = sorted(mine)[0]
    answer = _required_note(data.note, "note", N_("Hãy ghi kết quả xử lý phần việc liên thông."))
    task = ctx.session.scalars(
        select(DossierTask).where(DossierTask.dossier_id == d.id, DossierTask.agency_code == agency)
    ).one()
    task.answered_at = ctx.now
    task.answer = answer
    task.timeliness = clock.timeliness(ctx.calendar, ctx.now, task.due_at)
    return _event(
        ctx,
        d,
        Action.ANSWER.value,
        d.state,
        note=answer,
        from_agency=agency,
        to_agency=d.competent_agency_code,
        to_unit=_step_unit(version, d.current_step),
        due_at=task.due_at,
        timeliness=task.timeliness,
        data={"task": task.task},
    )


def _request_payment(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    amount = data.amount or sum(f.amount for f in version.fees)
    if amount <= 0:
        message = N_("Nêu số tiền phải nộp (thủ tục này không có phí, lệ phí).")
        raise Invalid(message, errors=[FieldError("amount", message)])
    before = d.state
    ctx.session.add(
        DossierPause(
            dossier_id=d.id, reason="payment", mode="pause", started_at=ctx.now, due_before=d.due_at
        )
    )
    d.fee_amount = amount
    d.state = State.PAYMENT_REQUESTED.value
    return _event(
        ctx, d, Action.REQUEST_PAYMENT.value, before, note=data.note, data={"amount": amount}
    )


def _pay(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    pause = ctx.session.scalars(
        select(DossierPause).where(
            DossierPause.dossier_id == d.id,
            DossierPause.reason == "payment",
            DossierPause.ended_at.is_(None),
        )
    ).one()
    pause.ended_at = ctx.now
    paused = ctx.calendar.working_time_between(pause.started_at, ctx.now)
    d.due_at = clock.extend(ctx.calendar, d.due_at, paused)
    if d.step_due_at is not None:
        d.step_due_at = clock.extend(ctx.calendar, d.step_due_at, paused)
    pause.due_after = d.due_at
    d.state = State.IN_PROGRESS.value
    return _event(
        ctx,
        d,
        Action.PAY.value,
        before,
        note=data.note,
        data={"amount": d.fee_amount, "appointment": d.due_at.isoformat()},
    )


def _apologize(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    if d.apologized_at is not None:
        raise Conflict(
            "Ngày hẹn chỉ được điều chỉnh một lần; hồ sơ đã có văn bản xin lỗi ngày {day}.",
            extensions={"state": d.state},
            day=ctx.calendar.local(d.apologized_at).strftime("%d/%m/%Y"),
        )
    latest = ctx.calendar.add_working_time(ctx.now, 1, TimeUnit.WORKING_DAYS)
    if latest > d.due_at:
        raise Conflict(
            "Văn bản xin lỗi phải được phát hành trước hạn ít nhất 01 ngày làm việc (hạn: {due}).",
            extensions={"state": d.state, "due_at": d.due_at.isoformat()},
            due=ctx.calendar.local(d.due_at).strftime("%H:%M %d/%m/%Y"),
        )
    reason = _required_note(data.note, "note", N_("Nêu lý do chậm giải quyết hồ sơ."))
    if data.new_due_at is None or data.new_due_at.tzinfo is None:
        message = N_("Nêu ngày hẹn trả kết quả mới (có múi giờ, ví dụ 2026-03-20T16:00:00+07:00).")
        raise Invalid(message, errors=[FieldError("new_due_at", message)])
    if data.new_due_at <= d.due_at:
        message = N_("Ngày hẹn mới phải sau ngày hẹn hiện tại.")
        raise Invalid(message, errors=[FieldError("new_due_at", message)])
    d.original_due_at = d.due_at
    d.due_at = data.new_due_at.astimezone(UTC)
    d.apologized_at = ctx.now
    return _event(
        ctx,
        d,
        Action.APOLOGIZE.value,
        d.state,
        note=reason,
        data={
            "form": "04",
            "old_due_at": d.original_due_at.isoformat(),
            "appointment": d.due_at.isoformat(),
        },
    )


def _return_result(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    finished_due = d.due_at
    d.state = State.RETURNED.value
    d.returned_at = ctx.now
    d.closed_at = ctx.now
    d.current_step = len(version.steps) - 1
    return _event(
        ctx,
        d,
        Action.RETURN_RESULT.value,
        before,
        note=data.note,
        from_agency=d.receiving_agency_code,
        from_unit=_step_unit(version, d.current_step),
        due_at=finished_due,
        timeliness=clock.timeliness(ctx.calendar, ctx.now, finished_due),
        data={"outcome": d.outcome, "result": version.result},
    )


def _withdraw(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = State(d.state)
    if before in WITHDRAW_AT_ONCE:
        d.state = State.STOPPED.value
        d.closed_at = ctx.now
        return _event(
            ctx,
            d,
            Action.WITHDRAW.value,
            before.value,
            note=data.note,
            data={"form": "05", "stage": "before_receipt"},
        )
    d.previous_state = before.value
    d.state = State.WITHDRAWAL_REQUESTED.value
    return _event(ctx, d, Action.WITHDRAW.value, before.value, note=data.note)


def _cancel_withdrawal(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    d.state = d.previous_state or State.IN_PROGRESS.value
    d.previous_state = None
    return _event(ctx, d, Action.CANCEL_WITHDRAWAL.value, before, note=data.note)


def _stop(
    ctx: Ctx, d: Dossier, version: ProcedureDetail, facts: perms.Facts, data: ActionIn
) -> DossierEvent:
    before = d.state
    d.state = State.STOPPED.value
    d.closed_at = ctx.now
    # A clock paused for the applicant ends with the case.
    for pause in ctx.session.scalars(
        select(DossierPause).where(DossierPause.dossier_id == d.id, DossierPause.ended_at.is_(None))
    ):
        pause.ended_at = ctx.now
    return _event(ctx, d, Action.STOP.value, before, note=data.note, data={"form": "05"})


HANDLERS: dict[Action, Handler] = {
    Action.ACCEPT: _accept,
    Action.REQUEST_SUPPLEMENT: _request_supplement,
    Action.SUPPLEMENT: _supplement,
    Action.REFUSE: _refuse,
    Action.ASSIGN: _assign,
    Action.FORWARD: _forward,
    Action.TRANSFER: _transfer,
    Action.ANSWER: _answer,
    Action.REQUEST_PAYMENT: _request_payment,
    Action.PAY: _pay,
    Action.APPROVE: _approve,
    Action.APOLOGIZE: _apologize,
    Action.RETURN_RESULT: _return_result,
    Action.WITHDRAW: _withdraw,
    Action.CANCEL_WITHDRAWAL: _cancel_withdrawal,
    Action.STOP: _stop,
}
assert set(HANDLERS) == set(Action)
