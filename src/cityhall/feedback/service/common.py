"""What every use case shares: the context, ids and tokens, loading a report, events with
their audit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.core.calendar.rules import WorkingCalendar
from cityhall.core.calendar.service import load_calendar
from cityhall.errors import NotFound
from cityhall.feedback.models import Category, Report, ReportEvent
from cityhall.feedback.permissions import Facts
from cityhall.feedback.schemas import State

PURPOSE = "Giải quyết phản ánh, kiến nghị"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ctx:
    session: Session
    actor: Actor
    settings: Settings
    now: datetime = field(default_factory=now)
    _calendar: WorkingCalendar | None = None

    @property
    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = load_calendar(self.session, self.settings)
        return self._calendar


def actor_ref(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id or '-'}"[:80]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)  # 32 characters
    return token, token_digest(token)


_NEXT = text("SELECT nextval('feedback_report_seq')")


def next_public_id(ctx: Ctx) -> str:
    """``PA-<YYMM>-<sequence>``: the month of receipt (city time) and a never-reused number."""
    seq = int(ctx.session.execute(_NEXT).scalar_one())
    local = ctx.calendar.local(ctx.now)
    return f"PA-{local:%y%m}-{seq:06d}"


def category(session: Session, code: str, *, active: bool = True) -> Category:
    row = session.get(Category, code)
    if row is None or (active and not row.active):
        raise NotFound("Không có lĩnh vực phản ánh “{code}”.", code=code[:64])
    return row


def facts_of(report: Report) -> Facts:
    return Facts(State(report.state), report.agency_code)


def load_for_update(session: Session, public_id: str) -> Report:
    report = session.scalars(
        select(Report).where(Report.public_id == public_id.strip().upper()[:24]).with_for_update()
    ).one_or_none()
    if report is None:
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    return report


def event(
    ctx: Ctx,
    report: Report,
    action: str,
    from_state: str | None,
    *,
    note: str | None = None,
    public_note: bool = False,
    committed_date: date | None = None,
    photos: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Append one event to the report's history and its audit event (same transaction)."""
    report.last_event_seq += 1
    report.updated_at = ctx.now
    row = ReportEvent(
        report_id=report.id,
        seq=report.last_event_seq,
        action=action,
        from_state=from_state,
        to_state=report.state,
        at=ctx.now,
        actor_kind=ctx.actor.kind.value,
        actor_id=ctx.actor.id,
        actor_label=ctx.actor.label[:200],
        agency_code=report.agency_code,
        note=note,
        public_note=public_note,
        committed_date=committed_date,
        photos=photos or [],
    )
    ctx.session.add(row)
    audit.record(
        ctx.session,
        actor=ctx.actor,
        action=f"feedback.{action}",
        object_type="feedback_report",
        object_id=report.public_id,
        subject_id=report.reporter_pin,
        purpose=PURPOSE,
        data={
            "from": from_state,
            "to": report.state,
            "seq": row.seq,
            "agency": report.agency_code,
            **(data or {}),
        },
    )
    return row
