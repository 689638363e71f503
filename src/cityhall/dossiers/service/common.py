"""What every use case of the lifecycle shares: the context, version cache, form
validation, codes, events with their audit and notices, and who may see a dossier."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.catalog import queries as catalog
from cityhall.catalog.schemas import ProcedureDetail
from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.core.calendar.rules import WorkingCalendar
from cityhall.core.calendar.service import load_calendar
from cityhall.core.codes import format_code
from cityhall.dossiers import clock, notices
from cityhall.dossiers import permissions as perms
from cityhall.dossiers.lifecycle import (
    NATIONAL_STATUS,
    Action,
    State,
    possible,
)
from cityhall.dossiers.models import (
    Dossier,
    DossierEvent,
    DossierTask,
)
from cityhall.errors import (
    FieldError,
    NotFound,
)


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
        state=d.state,
    )


def allowed_actions(actor: Actor, d: Dossier, facts: perms.Facts) -> list[Action]:
    state = State(d.state)
    return [a for a in possible(state) if perms.may(actor, a, facts)]
