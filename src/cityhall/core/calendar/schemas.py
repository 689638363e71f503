"""Pydantic shapes of the calendar API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from cityhall.core.calendar.rules import DayKind, DayOverride, DaySource, TimeUnit


class DayIn(BaseModel):
    """An administrator's override of one day."""

    model_config = ConfigDict(extra="forbid")

    kind: DayKind = Field(
        description="`holiday`: a day off (even on a weekday); `working`: a make-up working "
        "day (even on a Saturday or Sunday)."
    )
    name: str = Field(min_length=1, max_length=200, description="Tên ngày, tiếng Việt.")
    note: str | None = Field(None, max_length=2000, description="Ghi chú, ví dụ văn bản quy định.")


class DayOut(BaseModel):
    day: date
    weekday: int = Field(description="ISO weekday: 1 = Monday … 7 = Sunday.")
    kind: DayKind
    name: str
    source: DaySource
    note: str | None

    @classmethod
    def of(cls, d: DayOverride) -> DayOut:
        return cls(
            day=d.day,
            weekday=d.day.isoweekday(),
            kind=d.kind,
            name=d.name,
            source=d.source,
            note=d.note,
        )


class AdminDayOut(DayOut):
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, d: DayOverride) -> AdminDayOut:
        return cls(
            **DayOut.of(d).model_dump(),
            updated_at=d.updated_at,
            updated_by=d.updated_by,
        )


class DaysOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    working_days: int = Field(description="Number of working days in the range, both ends in.")
    days: list[DayOut] = Field(
        description="Days that differ from the weekly rule: days off (`holiday`) and make-up "
        "working days (`working`)."
    )


class DeadlineOut(BaseModel):
    start: datetime = Field(description="The start as given, in Asia/Ho_Chi_Minh.")
    counted_from: datetime = Field(
        description="Where counting begins: the start, or the next opening of the office."
    )
    amount: Decimal
    unit: TimeUnit
    deadline: datetime
    timezone: str
