"""HTTP routes of the working-day calendar: public reads, administrator edits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from cityhall.core.actors import Actor, Role
from cityhall.core.calendar import service
from cityhall.core.calendar.rules import TimeUnit
from cityhall.core.calendar.schemas import AdminDayOut, DayIn, DayOut, DaysOut, DeadlineOut
from cityhall.errors import FieldError, Invalid
from cityhall.web.auth import require_official
from cityhall.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

MAX_RANGE_DAYS = 400

Admin = Annotated[Actor, Depends(require_official(Role.ADMIN))]


@router.get("/days", response_model=DaysOut, response_model_by_alias=True)
def list_days(
    session: DbSession,
    settings: AppSettings,
    start: Annotated[date, Query(alias="from", description="First day (YYYY-MM-DD).")],
    end: Annotated[date, Query(alias="to", description="Last day, included (YYYY-MM-DD).")],
) -> DaysOut:
    """Days off and make-up working days from `from` to `to` (at most 400 days)."""
    if end < start:
        message = "Ngày kết thúc phải không trước ngày bắt đầu."
        raise Invalid(message, errors=[FieldError("to", message)])
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        message = "Khoảng ngày không được dài quá {max} ngày."
        raise Invalid(
            message, errors=[FieldError("to", message, {"max": MAX_RANGE_DAYS})], max=MAX_RANGE_DAYS
        )
    calendar = service.load_calendar(session, settings)
    span = (end - start).days + 1
    working = sum(calendar.is_working_day(start + timedelta(days=i)) for i in range(span))
    return DaysOut(
        start=start,
        end=end,
        working_days=working,
        days=[DayOut.of(d) for d in calendar.overrides_between(start, end)],
    )


@router.get("/deadline", response_model=DeadlineOut)
def deadline(
    session: DbSession,
    settings: AppSettings,
    start: Annotated[
        datetime,
        Query(
            description="Start, ISO 8601 with an offset, e.g. `2026-02-13T10:00+07:00` "
            "(encode `+` as `%2B` in a URL)."
        ),
    ],
    amount: Annotated[Decimal, Query(ge=0, le=3650, description="How much time to add.")],
    unit: Annotated[TimeUnit, Query(description="working_days, working_hours, calendar_days.")],
) -> DeadlineOut:
    """The deadline `amount` `unit` after `start`, by the city's working-day calendar."""
    calendar = service.load_calendar(session, settings)
    result = calendar.add_working_time(start, amount, unit)
    counted_from = (
        calendar.local(start) if unit is TimeUnit.CALENDAR_DAYS else calendar.next_opening(start)
    )
    return DeadlineOut(
        start=calendar.local(start),
        counted_from=counted_from,
        amount=amount,
        unit=unit,
        deadline=result,
        timezone=settings.timezone,
    )


@router.put("/days/{day}", response_model=AdminDayOut)
def put_day(day: date, body: DayIn, session: DbSession, actor: Admin) -> AdminDayOut:
    """Set a day off or a make-up working day (administrators; audited)."""
    result = service.set_override(
        session, actor=actor, day=day, kind=body.kind, name=body.name, note=body.note
    )
    return AdminDayOut.of(result)


@router.delete("/days/{day}", status_code=204)
def delete_day(day: date, session: DbSession, actor: Admin) -> Response:
    """Remove a day's override; it then follows the weekly rule (administrators; audited)."""
    service.delete_override(session, actor=actor, day=day)
    return Response(status_code=204)
