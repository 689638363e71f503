"""The working-day calendar service: loading the calendar, admin edits, seeding.

The pure arithmetic is :class:`~cityhall.core.calendar.rules.WorkingCalendar` (re-exported
here); this module does the I/O: it loads the override rows of ``calendar_days`` into that
value and is the only write path to the table, every change audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import and_, delete, extract, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import SYSTEM, Actor
from cityhall.core.calendar.models import (
    KIND_HOLIDAY,
    SOURCE_ADMIN,
    SOURCE_PACKAGE,
    CalendarDay,
)
from cityhall.core.calendar.rules import (
    DayKind,
    DayOverride,
    DaySource,
    OfficeHours,
    TimeUnit,
    WorkingCalendar,
)
from cityhall.errors import FieldError, Forbidden, Invalid, NotFound

__all__ = [
    "DayKind",
    "DayOverride",
    "DaySource",
    "OfficeHours",
    "TimeUnit",
    "WorkingCalendar",
    "default_seed_years",
    "delete_override",
    "load_calendar",
    "load_overrides",
    "package_days",
    "seed_from_holidays_package",
    "set_override",
]

log = logging.getLogger(__name__)


# --- loading ---------------------------------------------------------------------------


def load_overrides(session: Session) -> list[DayOverride]:
    """Every override row, in day order (plain columns: no ORM identity-map overhead)."""
    rows = session.execute(
        select(
            CalendarDay.day,
            CalendarDay.kind,
            CalendarDay.name,
            CalendarDay.source,
            CalendarDay.note,
            CalendarDay.updated_at,
            CalendarDay.updated_by,
        ).order_by(CalendarDay.day)
    ).all()
    return [DayOverride.from_row(r) for r in rows]


_CALENDARS: dict[tuple[object, ...], WorkingCalendar] = {}


def load_calendar(session: Session, settings: Settings) -> WorkingCalendar:
    """The calendar as the session sees it (its own uncommitted edits included).

    Every dossier deadline needs it, so the built value is kept per process, keyed by a
    fingerprint of the table read in the session's own snapshot (row count, latest edit,
    sum of the days): one aggregate over a few hundred rows instead of loading them all.
    Any edit changes the fingerprint (an insert or update moves ``updated_at``, a delete
    the count), so a stale calendar is never used, across processes too.
    """
    count, latest, days = session.execute(
        select(
            func.count(),
            func.max(CalendarDay.updated_at),
            func.coalesce(func.sum(CalendarDay.day - date(2000, 1, 1)), 0),
        )
    ).one()
    key = (
        settings.timezone,
        settings.office_morning_start,
        settings.office_morning_end,
        settings.office_afternoon_start,
        settings.office_afternoon_end,
        count,
        latest,
        days,
    )
    cached = _CALENDARS.get(key)
    if cached is not None:
        return cached
    overrides = load_overrides(session)
    if not overrides:
        log.warning(
            "calendar_days is empty: holidays are not counted; run `cityhall calendar seed`"
        )
    calendar = WorkingCalendar.build(settings, overrides)
    if len(_CALENDARS) > 16:
        _CALENDARS.clear()
    _CALENDARS[key] = calendar
    return calendar


# --- admin edits -----------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị viên được sửa lịch ngày làm việc.")


def _actor_ref(actor: Actor) -> str:
    return (actor.id or actor.kind.value)[:64]


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise Invalid(
            "Tên ngày không được để trống.",
            errors=[FieldError("name", "Tên ngày không được để trống.")],
        )
    if len(cleaned) > 200:
        raise Invalid(
            "Tên ngày không được dài quá 200 ký tự.",
            errors=[FieldError("name", "Tên ngày không được dài quá 200 ký tự.")],
        )
    return cleaned


def _kind(kind: DayKind | str) -> DayKind:
    try:
        return DayKind(kind)
    except ValueError:
        message = "Loại ngày phải là holiday (ngày nghỉ) hoặc working (ngày làm bù)."
        raise Invalid(message, errors=[FieldError("kind", message)]) from None


def set_override(
    session: Session,
    *,
    actor: Actor,
    day: date,
    kind: DayKind | str,
    name: str,
    note: str | None = None,
) -> DayOverride:
    """Create or replace the override of ``day`` (an admin row: reseeding keeps it)."""
    _require_admin(actor)
    new_kind = _kind(kind)
    clean_name = _clean_name(name)
    clean_note = (note or "").strip() or None
    row = session.get(CalendarDay, day, with_for_update=True)
    old = DayOverride.from_row(row).as_dict() if row is not None else None
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.kind = new_kind.value
    row.name = clean_name
    row.source = SOURCE_ADMIN
    row.note = clean_note
    row.updated_at = datetime.now(UTC)
    row.updated_by = _actor_ref(actor)
    session.flush()
    result = DayOverride.from_row(row)
    audit.record(
        session,
        actor=actor,
        action="calendar.day.set",
        object_type="calendar_day",
        object_id=day.isoformat(),
        data={"old": old, "new": result.as_dict()},
    )
    return result


def delete_override(session: Session, *, actor: Actor, day: date) -> DayOverride:
    """Remove the override of ``day`` (it then follows the weekly rule). A package row
    removed this way comes back on the next reseed; to cancel a package holiday for good,
    set the day to ``working`` instead."""
    _require_admin(actor)
    row = session.get(CalendarDay, day, with_for_update=True)
    if row is None:
        raise NotFound("Ngày {day} không có điều chỉnh nào.", day=day.isoformat())
    old = DayOverride.from_row(row)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="calendar.day.delete",
        object_type="calendar_day",
        object_id=day.isoformat(),
        data={"old": old.as_dict(), "new": None},
    )
    return old


# --- seeding from the holidays package -------------------------------------------------

# Used only when the installed `holidays` has no Vietnamese names (older releases).
_VI_NAMES = {
    "New Year's Day": "Tết Dương lịch",
    "Lunar New Year's Eve": "Giao thừa Tết Nguyên đán",
    "Lunar New Year": "Tết Nguyên đán",
    "Second Day of Lunar New Year": "Mùng hai Tết Nguyên đán",
    "Third Day of Lunar New Year": "Mùng ba Tết Nguyên đán",
    "Fourth Day of Lunar New Year": "Mùng bốn Tết Nguyên đán",
    "Fifth Day of Lunar New Year": "Mùng năm Tết Nguyên đán",
    "29 Tet Holiday": "29 Tết",
    "Hung Kings' Commemoration Day": "Giỗ Tổ Hùng Vương",
    "Liberation Day/Reunification Day": "Ngày Giải phóng miền Nam, thống nhất đất nước",
    "International Labor Day": "Ngày Quốc tế Lao động",
    "National Day": "Quốc khánh",
    "Vietnam Cultural Day": "Ngày Văn hóa Việt Nam",
}


def _vi_name(name: str) -> str:
    observed = name.endswith(" (observed)")
    base = name.removesuffix(" (observed)")
    if base.startswith("Day off (substituted from "):
        return "Ngày nghỉ bù (" + base.removeprefix("Day off (substituted from ")
    translated = _VI_NAMES.get(base, base)
    return f"{translated} (nghỉ bù)" if observed else translated


def package_days(years: Iterable[int]) -> dict[date, str]:
    """Vietnam's public days off according to the ``holidays`` package, Vietnamese names."""
    import holidays

    wanted = sorted(set(years))
    if not wanted:
        return {}
    if "vi" in holidays.list_localized_countries().get("VN", ()):
        vn = holidays.country_holidays("VN", years=wanted, language="vi")
        return {d: str(n) for d, n in vn.items()}
    vn = holidays.country_holidays("VN", years=wanted)
    return {d: "; ".join(_vi_name(part) for part in str(n).split("; ")) for d, n in vn.items()}


def default_seed_years(today: date | None = None) -> range:
    """2020 to two years ahead: the range ``cityhall calendar seed`` uses by default."""
    year = (today or datetime.now(UTC).date()).year
    return range(2020, year + 3)


def seed_from_holidays_package(
    session: Session, years: Iterable[int], *, actor: Actor = SYSTEM
) -> int:
    """Bring the package rows of ``years`` up to date; return how many rows changed.

    Idempotent: new days are inserted, package rows whose name changed are updated, package
    rows the package no longer lists are deleted. Admin rows are never touched (an admin
    row on a day the package lists wins).
    """
    wanted = sorted(set(years))
    if not wanted:
        return 0
    days = package_days(wanted)
    now = datetime.now(UTC)
    changed: list[date] = []
    if days:
        rows = insert(CalendarDay).values(
            [
                {
                    "day": d,
                    "kind": KIND_HOLIDAY,
                    "name": name[:200],
                    "source": SOURCE_PACKAGE,
                    "note": None,
                    "updated_at": now,
                    "updated_by": _actor_ref(actor),
                }
                for d, name in sorted(days.items())
            ]
        )
        stmt = rows.on_conflict_do_update(
            index_elements=[CalendarDay.day],
            set_={
                "kind": rows.excluded.kind,
                "name": rows.excluded.name,
                "updated_at": rows.excluded.updated_at,
                "updated_by": rows.excluded.updated_by,
            },
            where=and_(
                CalendarDay.source == SOURCE_PACKAGE,
                (CalendarDay.kind != rows.excluded.kind) | (CalendarDay.name != rows.excluded.name),
            ),
        ).returning(CalendarDay.day)
        changed.extend(session.scalars(stmt).all())
    first, last = date(wanted[0], 1, 1), date(wanted[-1], 12, 31)
    conditions = [
        CalendarDay.source == SOURCE_PACKAGE,
        CalendarDay.day.between(first, last),
        extract("year", CalendarDay.day).in_(wanted),
    ]
    if days:
        conditions.append(CalendarDay.day.not_in(list(days)))
    stale = session.scalars(
        delete(CalendarDay)
        .where(*conditions)
        .returning(CalendarDay.day)
        .execution_options(synchronize_session=False)
    ).all()
    changed.extend(stale)
    # The statements above bypassed the identity map: let loaded rows refresh.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, CalendarDay) and obj.day in changed:
            session.expire(obj)
    if changed:
        audit.record(
            session,
            actor=actor,
            action="calendar.seed",
            object_type="calendar",
            object_id=None,
            data={
                "years": wanted,
                "changed": len(changed),
                "deleted": [d.isoformat() for d in stale],
            },
        )
    return len(changed)
