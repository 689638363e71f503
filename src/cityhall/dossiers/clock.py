"""Deadlines of a dossier: the whole time limit, each step's share, handover timeliness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from cityhall.catalog.schemas import Step
from cityhall.core.calendar.rules import TimeUnit, WorkingCalendar

# Paper dossiers received after this hour go to the competent agency the next morning.
PAPER_CUTOFF = time(15, 0)
# A supplementation request found during appraisal goes out within this many working days.
SUPPLEMENT_REQUEST_DAYS = 3


@dataclass(frozen=True)
class Limit:
    value: Decimal
    unit: TimeUnit


def due(
    calendar: WorkingCalendar, start: datetime, limit: Limit, share: Decimal = Decimal(1)
) -> datetime:
    """``share`` of ``limit`` counted from ``start``. Calendar-day limits are split in wall
    time (their end already falls on a working day); working time in office time."""
    if limit.unit is TimeUnit.CALENDAR_DAYS:
        end = calendar.add_working_time(start, limit.value, limit.unit)
        if share >= 1:
            return end
        return start + (end - start) * float(share)
    return calendar.add_working_time(start, limit.value * share, limit.unit)


def step_due(
    calendar: WorkingCalendar, start: datetime, limit: Limit, steps: list[Step], index: int
) -> datetime:
    """When step ``index`` must be finished: its cumulative share of the limit."""
    cumulative = sum((s.share for s in steps[: index + 1]), Decimal(0))
    return due(calendar, start, limit, min(cumulative, Decimal(1)))


def timeliness(calendar: WorkingCalendar, done: datetime, deadline: datetime | None) -> str | None:
    """early (before the deadline's day), on_time (by the deadline), late (after it)."""
    if deadline is None:
        return None
    if done > deadline:
        return "late"
    if calendar.local(done).date() < calendar.local(deadline).date():
        return "early"
    return "on_time"


def paper_handover_due(calendar: WorkingCalendar, received: datetime) -> datetime:
    """Paper dossiers reach the competent agency the same working day, or the next working
    morning when received after 15:00 (Decree 118/2025)."""
    local = calendar.local(received)
    hours = calendar.hours
    if calendar.is_working_day(local.date()) and local.time() < PAPER_CUTOFF:
        return datetime.combine(local.date(), hours.afternoon_end, tzinfo=calendar.tz)
    day = calendar.next_working_day(local.date())
    return datetime.combine(day, hours.morning_end, tzinfo=calendar.tz)


def supplement_request_limit(calendar: WorkingCalendar, received: datetime) -> datetime:
    return calendar.add_working_time(received, SUPPLEMENT_REQUEST_DAYS, TimeUnit.WORKING_DAYS)


def extend(calendar: WorkingCalendar, deadline: datetime, paused: timedelta) -> datetime:
    """``deadline`` moved by ``paused`` of office time (a paused clock)."""
    hours = Decimal(paused.total_seconds()) / Decimal(3600)
    if hours <= 0:
        return deadline
    return calendar.add_working_time(
        deadline, hours.quantize(Decimal("0.0001")), TimeUnit.WORKING_HOURS
    )
