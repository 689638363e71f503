"""Tables of the working-day calendar: the days that differ from the weekly rule."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base

KIND_HOLIDAY = "holiday"
KIND_WORKING = "working"
SOURCE_PACKAGE = "holidays-package"
SOURCE_ADMIN = "admin"


class CalendarDay(Base):
    """One day whose status overrides the weekly rule (Monday-Friday work, weekend off).

    ``kind`` is ``holiday`` (a day off, even on a weekday) or ``working`` (a make-up working
    day, usually a Saturday). Rows with ``source = 'holidays-package'`` are seeded from the
    ``holidays`` package and may be refreshed by reseeding; ``admin`` rows are edited by an
    administrator and never touched by reseeding.
    """

    __tablename__ = "calendar_days"
    __table_args__ = (
        CheckConstraint("kind IN ('holiday', 'working')", name="kind"),
        CheckConstraint("source IN ('holidays-package', 'admin')", name="source"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))
