"""Working-day arithmetic: pure, no I/O.

:class:`WorkingCalendar` is an immutable value built from the office hours in
:class:`~cityhall.config.Settings` and the override rows of ``calendar_days`` (loaded by
:func:`cityhall.core.calendar.service.load_calendar`). Every legal deadline of the platform
is computed with it.

Rules (see ``docs/domains/calendar.md``):

* Monday to Friday are working days, Saturday and Sunday are not, unless a row of
  ``calendar_days`` says otherwise (``holiday``: a day off; ``working``: a make-up day).
* Office hours are two intervals per working day, 07:30-11:30 and 13:00-17:00 by default,
  so one working day is 8 working hours.
* Time is counted as office time in the configured time zone (Asia/Ho_Chi_Minh). A start
  outside office hours counts from the next opening; an end that falls exactly on a closing
  time stays at that closing time (Friday 17:30 + 1 working day = Monday 17:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cityhall.config import Settings
from cityhall.core.calendar.models import (
    KIND_HOLIDAY,
    KIND_WORKING,
    SOURCE_ADMIN,
    SOURCE_PACKAGE,
    CalendarDay,
)
from cityhall.errors import FieldError, Invalid

# How far day-by-day searches may run before the calendar is declared broken (no working
# day at all in ten years means every day was overridden as a holiday).
_SEARCH_LIMIT_DAYS = 3660
# The largest amount of time one call may add: 100 years.
_MAX_SPAN = timedelta(days=36_600)


class TimeUnit(StrEnum):
    """The units a legal time limit is expressed in."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"


class DayKind(StrEnum):
    HOLIDAY = KIND_HOLIDAY  # a day off, even on a weekday
    WORKING = KIND_WORKING  # a make-up working day, even on a weekend


class DaySource(StrEnum):
    HOLIDAYS_PACKAGE = SOURCE_PACKAGE
    ADMIN = SOURCE_ADMIN


class _DayColumns(Protocol):
    """A result row with the calendar table's columns."""

    @property
    def day(self) -> date: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def note(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def updated_by(self) -> str | None: ...


@dataclass(frozen=True)
class DayOverride:
    """One row of ``calendar_days`` as a plain value."""

    day: date
    kind: DayKind
    name: str
    source: DaySource
    note: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def from_row(cls, row: CalendarDay | _DayColumns) -> DayOverride:
        """From an ORM row or a plain result row with the same columns."""
        return cls(
            day=row.day,
            kind=DayKind(row.kind),
            name=row.name,
            source=DaySource(row.source),
            note=row.note,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "kind": self.kind.value,
            "name": self.name,
            "source": self.source.value,
            "note": self.note,
        }


@dataclass(frozen=True)
class OfficeHours:
    """The two daily office intervals (morning and afternoon), in local wall-clock time."""

    morning_start: time = time(7, 30)
    morning_end: time = time(11, 30)
    afternoon_start: time = time(13, 0)
    afternoon_end: time = time(17, 0)

    def __post_init__(self) -> None:
        times = (self.morning_start, self.morning_end, self.afternoon_start, self.afternoon_end)
        if any(t.tzinfo is not None for t in times):
            raise ValueError("office hours are local wall-clock times without a time zone")
        ordered = (
            self.morning_start < self.morning_end
            and self.morning_end <= self.afternoon_start
            and self.afternoon_start < self.afternoon_end
        )
        if not ordered:
            raise ValueError(
                "office hours must satisfy morning_start < morning_end <= afternoon_start "
                f"< afternoon_end, got {times}"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> OfficeHours:
        return cls(
            settings.office_morning_start,
            settings.office_morning_end,
            settings.office_afternoon_start,
            settings.office_afternoon_end,
        )

    @property
    def intervals(self) -> tuple[tuple[time, time], tuple[time, time]]:
        return ((self.morning_start, self.morning_end), (self.afternoon_start, self.afternoon_end))

    @property
    def day_length(self) -> timedelta:
        """Office time in one working day (8 hours by default)."""
        return sum((_span(start, end) for start, end in self.intervals), timedelta())


def _span(start: time, end: time) -> timedelta:
    anchor = date(2000, 1, 1)
    return datetime.combine(anchor, end) - datetime.combine(anchor, start)


def _amount(value: int | Decimal, unit: TimeUnit) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Invalid(
            "Số lượng phải là một số.",
            errors=[FieldError("amount", "Số lượng phải là một số.")],
        )
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise Invalid(
            "Số lượng phải là số không âm.",
            errors=[FieldError("amount", "Số lượng phải là số không âm.")],
        )
    if unit is TimeUnit.CALENDAR_DAYS and amount != amount.to_integral_value():
        raise Invalid(
            "Số ngày theo lịch phải là số nguyên.",
            errors=[FieldError("amount", "Số ngày theo lịch phải là số nguyên.")],
        )
    return amount


def _to_timedelta(amount: Decimal, unit_length: timedelta) -> timedelta:
    unit_us = unit_length // timedelta(microseconds=1)
    try:
        us = int((amount * unit_us).to_integral_value(rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # pragma: no cover - finite, non-negative already
        raise Invalid("Số lượng quá lớn.") from exc
    if us > _MAX_SPAN // timedelta(microseconds=1):
        raise Invalid("Số lượng quá lớn.", errors=[FieldError("amount", "Số lượng quá lớn.")])
    return timedelta(microseconds=us)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and office time: a pure value, safe to share between threads.

    ``overrides`` maps a day to its override; every other day follows the weekly rule.
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    hours: OfficeHours = field(default_factory=OfficeHours)
    overrides: Mapping[date, DayOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Freeze the mapping so the value really is immutable.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    @classmethod
    def build(cls, settings: Settings, days: Iterable[DayOverride] = ()) -> WorkingCalendar:
        try:
            tz = ZoneInfo(settings.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone in settings: {settings.timezone!r}") from exc
        return cls(tz, OfficeHours.from_settings(settings), {d.day: d for d in days})

    # --- days -----------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        override = self.overrides.get(d)
        if override is not None:
            return override.kind is DayKind.WORKING
        return d.weekday() < 5

    def override(self, d: date) -> DayOverride | None:
        return self.overrides.get(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = d + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise Invalid("Lịch làm việc không có ngày làm việc nào sau {day}.", day=d.isoformat())

    def first_working_day_from(self, d: date) -> date:
        """``d`` itself if it is a working day, else the next one."""
        return d if self.is_working_day(d) else self.next_working_day(d)

    def overrides_between(self, start: date, end: date) -> list[DayOverride]:
        """Overrides from ``start`` to ``end``, both included, in day order."""
        return [self.overrides[d] for d in sorted(self.overrides) if start <= d <= end]

    # --- instants -------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's time zone; naive datetimes are refused."""
        if not isinstance(moment, datetime):
            raise Invalid("Thời điểm phải là ngày giờ có múi giờ.")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise Invalid(
                "Thời điểm phải có múi giờ (ví dụ 2026-02-13T10:00+07:00).",
                errors=[
                    FieldError("start", "Thời điểm phải có múi giờ (ví dụ 2026-02-13T10:00+07:00).")
                ],
            )
        return moment.astimezone(self.tz)

    def _position(self, moment: datetime) -> tuple[date, timedelta]:
        """Where ``moment`` sits on the office clock: (working day, office time elapsed that
        day), the offset in ``[0, day_length]``. A moment on a day off maps to the start of
        the next working day; before opening to 0; in the lunch break to the morning's
        length; after closing to the day's length."""
        local = self.local(moment).replace(tzinfo=None)
        day = local.date()
        if not self.is_working_day(day):
            return self.next_working_day(day), timedelta()
        elapsed = timedelta()
        for start, end in self.hours.intervals:
            opens, closes = datetime.combine(day, start), datetime.combine(day, end)
            if local < opens:
                return day, elapsed
            if local < closes:
                return day, elapsed + (local - opens)
            elapsed += closes - opens
        return day, elapsed

    def _moment(self, day: date, offset: timedelta, *, prefer_opening: bool = False) -> datetime:
        """The instant ``offset`` of office time into working day ``day``. On a boundary
        between intervals, the closing time (or, with ``prefer_opening``, the next opening)."""
        elapsed = timedelta()
        intervals = self.hours.intervals
        for i, (start, end) in enumerate(intervals):
            length = _span(start, end)
            last = i == len(intervals) - 1
            if offset < elapsed + length or (offset == elapsed + length and not prefer_opening):
                return datetime.combine(day, start, tzinfo=self.tz) + (offset - elapsed)
            if last:
                return datetime.combine(day, end, tzinfo=self.tz)
            elapsed += length
        raise AssertionError("unreachable")  # pragma: no cover

    def is_office_time(self, moment: datetime) -> bool:
        local = self.local(moment).replace(tzinfo=None)
        if not self.is_working_day(local.date()):
            return False
        return any(
            datetime.combine(local.date(), s) <= local < datetime.combine(local.date(), e)
            for s, e in self.hours.intervals
        )

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself (in local time) if the office is open then, else the next
        opening: after lunch, the next working morning."""
        if self.is_office_time(moment):
            return self.local(moment)
        day, offset = self._position(moment)
        if offset >= self.hours.day_length:
            day, offset = self.next_working_day(day), timedelta()
        return self._moment(day, offset, prefer_opening=True)

    def add_working_time(
        self, start: datetime, amount: int | Decimal, unit: TimeUnit | str
    ) -> datetime:
        """The deadline ``amount`` ``unit`` after ``start``, aware, in the calendar's zone.

        Working days and hours count office time from the next opening at or after
        ``start``; one working day is ``day_length`` (8 h) of office time, so Monday 09:00
        + 1 working day = Tuesday 09:00, and an end on a closing time stays there (Friday
        17:30 + 1 working day = Monday 17:00). Calendar days add plain days to ``start``; an
        end on a day off moves to the close of the next working day.
        """
        unit = _unit(unit)
        value = _amount(amount, unit)
        local = self.local(start)
        if unit is TimeUnit.CALENDAR_DAYS:
            end = (local.replace(tzinfo=None) + timedelta(days=int(value))).replace(tzinfo=self.tz)
            if end.year > 9000 or (end - local) > _MAX_SPAN:
                raise Invalid("Số lượng quá lớn.")
            if self.is_working_day(end.date()):
                return end
            day = self.next_working_day(end.date())
            return datetime.combine(day, self.hours.afternoon_end, tzinfo=self.tz)
        length = self.hours.day_length
        span = _to_timedelta(value, length if unit is TimeUnit.WORKING_DAYS else timedelta(hours=1))
        if span == timedelta():
            return self.next_opening(local)
        day, offset = self._position(local)
        remaining = offset + span
        while remaining > length:
            remaining -= length
            day = self.next_working_day(day)
        return self._moment(day, remaining)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Office time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        if self.local(b) < self.local(a):
            return -self.working_time_between(b, a)
        day_a, offset_a = self._position(a)
        day_b, offset_b = self._position(b)
        days = 0
        day = day_a
        while day < day_b:
            day = self.next_working_day(day)
            days += 1
        return days * self.hours.day_length + offset_b - offset_a


def _unit(unit: TimeUnit | str) -> TimeUnit:
    try:
        return TimeUnit(unit)
    except ValueError:
        message = "Đơn vị phải là một trong: working_days, working_hours, calendar_days."
        raise Invalid(message, errors=[FieldError("unit", message)]) from None
