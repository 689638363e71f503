"""The working-day calendar, pinned on real Vietnamese holidays of 2026.

2026 by the `holidays` package: Tết 16-20 Feb (Mon-Fri), Hùng Kings 26 Apr (Sunday,
observed Mon 27 Apr), 30 Apr (Thu) and 1 May (Fri), 31 Aug (Mon, swapped from Sat 22 Aug)
+ 1-2 Sep, Culture Day 24 Nov (Tue).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind, Role, RoleGrant
from cityhall.core.audit import AuditEvent
from cityhall.core.calendar import service
from cityhall.core.calendar.commands import parse_month, parse_years, render_month
from cityhall.core.calendar.models import CalendarDay
from cityhall.core.calendar.service import (
    DayKind,
    DaySource,
    OfficeHours,
    TimeUnit,
    WorkingCalendar,
)
from cityhall.errors import Forbidden, Invalid, NotFound

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = Actor(
    ActorKind.OFFICIAL, "7", "Quản trị viên", (RoleGrant(Role.ADMIN, "000.00.00.H29", None),)
)
HANDLER = Actor(
    ActorKind.OFFICIAL, "8", "Chuyên viên", (RoleGrant(Role.HANDLER, "000.00.00.H29", None),)
)
CITIZEN = Actor(ActorKind.CITIZEN, "079123456789", "Công dân")

WD = TimeUnit.WORKING_DAYS
WH = TimeUnit.WORKING_HOURS
CD = TimeUnit.CALENDAR_DAYS


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=HCM)


@pytest.fixture
def seeded(session: Session) -> Session:
    service.seed_from_holidays_package(session, range(2025, 2028))
    return session


@pytest.fixture
def cal(seeded: Session, settings: Settings) -> WorkingCalendar:
    return service.load_calendar(seeded, settings)


# --- the seeded days ------------------------------------------------------------------


def test_seeded_days_off_2026(cal: WorkingCalendar) -> None:
    off = {
        date(2026, 1, 1),
        *(date(2026, 2, d) for d in range(16, 21)),
        date(2026, 4, 27),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 8, 31),
        date(2026, 9, 1),
        date(2026, 9, 2),
        date(2026, 11, 24),
    }
    weekday_offs = {
        d.day
        for d in cal.overrides_between(date(2026, 1, 1), date(2026, 12, 31))
        if d.kind is DayKind.HOLIDAY and d.day.weekday() < 5
    }
    assert weekday_offs == off
    assert all(not cal.is_working_day(d) for d in off)


def test_seeded_names_are_vietnamese(cal: WorkingCalendar) -> None:
    def name(d: date) -> str:
        o = cal.override(d)
        assert o is not None
        assert o.source is DaySource.HOLIDAYS_PACKAGE
        return o.name

    assert name(date(2026, 1, 1)) == "Tết Dương lịch"
    assert "Tết Nguyên" in name(date(2026, 2, 17))
    assert "Hùng Vương" in name(date(2026, 4, 27))
    assert "Quốc tế Lao động" in name(date(2026, 5, 1))
    assert "Quốc khánh" in name(date(2026, 9, 2))
    assert name(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"


def test_weekly_rule() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2026, 3, 6))  # Friday
    assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 3, 8))  # Sunday
    assert cal.next_working_day(date(2026, 3, 6)) == date(2026, 3, 9)
    assert cal.next_working_day(date(2026, 3, 9)) == date(2026, 3, 10)


def test_next_working_day_across_tet(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert cal.first_working_day_from(date(2026, 2, 16)) == date(2026, 2, 23)
    assert cal.first_working_day_from(date(2026, 2, 13)) == date(2026, 2, 13)


# --- working days and hours -----------------------------------------------------------


def test_tet_2026_three_working_days(cal: WorkingCalendar) -> None:
    # Received Fri 13 Feb 10:00; 16-20 Feb Tết, 21-22 weekend: Mon 23, Tue 24, Wed 25.
    assert cal.add_working_time(at(2026, 2, 13, 10), 3, WD) == at(2026, 2, 25, 10)
    assert cal.working_time_between(at(2026, 2, 13, 10), at(2026, 2, 25, 10)) == timedelta(hours=24)


def test_hung_kings_2026_observed_monday(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 4, 27))
    assert cal.add_working_time(at(2026, 4, 24, 10), 1, WD) == at(2026, 4, 28, 10)


def test_30_april_1_may_2026(cal: WorkingCalendar) -> None:
    # Wed 29 Apr 15:00 + 1 day: Thu 30, Fri 1, Sat 2, Sun 3 off -> Mon 4 May 15:00.
    assert cal.add_working_time(at(2026, 4, 29, 15), 1, WD) == at(2026, 5, 4, 15)
    # + 2 working hours from 16:00: one hour on 29 Apr, one on 4 May.
    assert cal.add_working_time(at(2026, 4, 29, 16), 2, WH) == at(2026, 5, 4, 8, 30)


def test_national_day_2026(cal: WorkingCalendar) -> None:
    # Fri 28 Aug 10:00 + 1 day: Sat, Sun, Mon 31 Aug, Tue 1 Sep, Wed 2 Sep off -> Thu 3 Sep.
    assert cal.add_working_time(at(2026, 8, 28, 10), 1, WD) == at(2026, 9, 3, 10)
    assert cal.add_working_time(at(2026, 8, 28, 10), 2, WD) == at(2026, 9, 4, 10)


def test_culture_day_2026(cal: WorkingCalendar) -> None:
    # Mon 23 Nov 16:00 + 2 h: 16:00-17:00, then Tue 24 off, Wed 25 07:30-08:30.
    assert cal.add_working_time(at(2026, 11, 23, 16), 2, WH) == at(2026, 11, 25, 8, 30)
    assert cal.add_working_time(at(2026, 11, 23, 9), 1, WD) == at(2026, 11, 25, 9)


def test_one_working_day_is_eight_hours() -> None:
    cal = WorkingCalendar()
    monday = at(2026, 3, 2, 9)
    assert cal.add_working_time(monday, 1, WD) == at(2026, 3, 3, 9)
    assert cal.add_working_time(monday, 8, WH) == at(2026, 3, 3, 9)
    assert cal.add_working_time(monday, 5, WD) == at(2026, 3, 9, 9)
    # Half a day from 09:00: 2.5 h in the morning, 1.5 h after lunch.
    assert cal.add_working_time(monday, Decimal("0.5"), WD) == at(2026, 3, 2, 14, 30)
    assert cal.add_working_time(monday, Decimal("2.5"), WH) == at(2026, 3, 2, 11, 30)


def test_after_hours_start(cal: WorkingCalendar) -> None:
    # Received Friday 17:30: counting starts Monday 07:30, so one day ends Monday 17:00.
    assert cal.add_working_time(at(2026, 3, 6, 17, 30), 1, WD) == at(2026, 3, 9, 17)
    # Exactly at closing time counts as after hours too.
    assert cal.add_working_time(at(2026, 3, 6, 17), 1, WD) == at(2026, 3, 9, 17)
    # Evening, early morning, weekend.
    assert cal.add_working_time(at(2026, 3, 2, 20), 1, WH) == at(2026, 3, 3, 8, 30)
    assert cal.add_working_time(at(2026, 3, 2, 6), 1, WH) == at(2026, 3, 2, 8, 30)
    assert cal.add_working_time(at(2026, 3, 7, 10), 1, WH) == at(2026, 3, 9, 8, 30)
    # Received during Tết: counting starts Mon 23 Feb 07:30.
    assert cal.add_working_time(at(2026, 2, 17, 10), 1, WD) == at(2026, 2, 23, 17)


def test_lunch_break_start(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2026, 3, 2, 12), 1, WH) == at(2026, 3, 2, 14)
    # Counting starts at 13:00, i.e. after the morning's 4 h: one day later is the same
    # point of Tuesday's office clock, whose earlier instant is 11:30 (a deadline on a
    # boundary is always the closing time).
    assert cal.add_working_time(at(2026, 3, 2, 12), 1, WD) == at(2026, 3, 3, 11, 30)
    assert cal.add_working_time(at(2026, 3, 2, 13), 1, WD) == at(2026, 3, 3, 11, 30)
    assert cal.add_working_time(at(2026, 3, 2, 13, 1), 1, WD) == at(2026, 3, 3, 13, 1)
    assert cal.add_working_time(at(2026, 3, 2, 12), 0, WH) == at(2026, 3, 2, 13)
    # Ending exactly at the morning's close stays at 11:30 (not 13:00).
    assert cal.add_working_time(at(2026, 3, 2, 10, 30), 1, WH) == at(2026, 3, 2, 11, 30)


def test_zero_amount_is_the_next_opening(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2026, 3, 2, 9, 15), 0, WD) == at(2026, 3, 2, 9, 15)
    assert cal.add_working_time(at(2026, 3, 6, 18), 0, WD) == at(2026, 3, 9, 7, 30)
    assert cal.next_opening(at(2026, 2, 13, 17)) == at(2026, 2, 23, 7, 30)


def test_aware_input_in_another_zone_returns_local_time(cal: WorkingCalendar) -> None:
    start = datetime(2026, 2, 13, 3, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
    result = cal.add_working_time(start, 3, WD)
    assert result == at(2026, 2, 25, 10)
    assert result.utcoffset() == timedelta(hours=7)
    assert result.isoformat() == "2026-02-25T10:00:00+07:00"


def test_naive_datetime_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(Invalid, match="múi giờ"):
        cal.add_working_time(datetime(2026, 2, 13, 10), 1, WD)  # noqa: DTZ001
    with pytest.raises(Invalid):
        cal.working_time_between(datetime(2026, 2, 13, 10), at(2026, 2, 14))  # noqa: DTZ001


def test_bad_amounts_and_units_rejected() -> None:
    cal = WorkingCalendar()
    with pytest.raises(Invalid):
        cal.add_working_time(at(2026, 3, 2, 9), -1, WD)
    with pytest.raises(Invalid):
        cal.add_working_time(at(2026, 3, 2, 9), Decimal("NaN"), WD)
    with pytest.raises(Invalid):
        cal.add_working_time(at(2026, 3, 2, 9), Decimal("1.5"), CD)
    with pytest.raises(Invalid):
        cal.add_working_time(at(2026, 3, 2, 9), 1, "fortnights")
    with pytest.raises(Invalid):
        cal.add_working_time(at(2026, 3, 2, 9), 10**9, WD)
    assert cal.add_working_time(at(2026, 3, 2, 9), 1, "working_days") == at(2026, 3, 3, 9)


# --- calendar days --------------------------------------------------------------------


def test_calendar_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_time(at(2026, 3, 2, 10), 7, CD) == at(2026, 3, 9, 10)
    # Ends in the evening of a working day: stays there.
    assert cal.add_working_time(at(2026, 3, 2, 20), 1, CD) == at(2026, 3, 3, 20)
    # Ends on a day off (18 Feb, Tết): moves to the close of the next working day.
    assert cal.add_working_time(at(2026, 2, 13, 10), 5, CD) == at(2026, 2, 23, 17)
    # Ends on a Saturday.
    assert cal.add_working_time(at(2026, 3, 6, 17, 30), 1, CD) == at(2026, 3, 9, 17)


# --- office time between two instants -------------------------------------------------


def test_working_time_between(cal: WorkingCalendar) -> None:
    h = timedelta(hours=1)
    assert cal.working_time_between(at(2026, 3, 6, 17, 30), at(2026, 3, 9, 17)) == 8 * h
    assert cal.working_time_between(at(2026, 3, 2, 11), at(2026, 3, 2, 14)) == 1.5 * h
    assert cal.working_time_between(at(2026, 3, 2, 12), at(2026, 3, 2, 12, 45)) == timedelta()
    assert cal.working_time_between(at(2026, 3, 7, 9), at(2026, 3, 8, 9)) == timedelta()
    assert cal.working_time_between(at(2026, 3, 9, 17), at(2026, 3, 6, 17, 30)) == -8 * h
    # Across Culture Day.
    assert cal.working_time_between(at(2026, 11, 23, 9), at(2026, 11, 25, 9)) == 8 * h


def test_between_inverts_add(cal: WorkingCalendar) -> None:
    starts = [
        at(2026, 2, 13, 10),
        at(2026, 2, 13, 18),
        at(2026, 4, 29, 12, 10),
        at(2026, 8, 28, 7),
        at(2026, 11, 21, 9),
        at(2026, 12, 31, 16, 59),
    ]
    for start in starts:
        for hours in (1, 3, 4, 8, 11, 40, 97):
            end = cal.add_working_time(start, hours, WH)
            assert cal.working_time_between(start, end) == timedelta(hours=hours), (start, hours)
            assert cal.is_working_day(end.date())


def test_office_hours_come_from_settings(settings: Settings) -> None:
    custom = settings.model_copy(
        update={
            "office_morning_start": time(8, 0),
            "office_morning_end": time(12, 0),
            "office_afternoon_start": time(13, 30),
            "office_afternoon_end": time(17, 30),
        }
    )
    cal = WorkingCalendar.build(custom)
    assert cal.hours.day_length == timedelta(hours=8)
    assert cal.add_working_time(at(2026, 3, 2, 7, 30), 1, WH) == at(2026, 3, 2, 9)
    assert cal.add_working_time(at(2026, 3, 6, 17, 45), 1, WD) == at(2026, 3, 9, 17, 30)


def test_office_hours_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="office hours"):
        OfficeHours(time(11, 30), time(7, 30), time(13, 0), time(17, 0))
    with pytest.raises(ValueError, match="office hours"):
        OfficeHours(time(7, 30), time(13, 30), time(13, 0), time(17, 0))


def test_calendar_value_is_immutable(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        cal.overrides[date(2026, 3, 2)] = cal.overrides[date(2026, 1, 1)]  # type: ignore[index]


# --- admin edits ----------------------------------------------------------------------


def _events(session: Session, action: str, day: date) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.object_id == day.isoformat()
            )
        )
    )


def test_make_up_saturday_counts(seeded: Session, settings: Settings) -> None:
    # 2026: 31 Aug off in exchange for working Saturday 22 Aug (unknown to the package).
    before = service.load_calendar(seeded, settings)
    assert before.add_working_time(at(2026, 8, 21, 10), 1, WD) == at(2026, 8, 24, 10)
    service.set_override(
        seeded,
        actor=ADMIN,
        day=date(2026, 8, 22),
        kind="working",
        name="Làm bù cho ngày 31/8/2026",
        note="Theo thông báo của Bộ Nội vụ",
    )
    cal = service.load_calendar(seeded, settings)
    assert cal.is_working_day(date(2026, 8, 22))
    assert cal.add_working_time(at(2026, 8, 21, 10), 1, WD) == at(2026, 8, 22, 10)
    assert cal.add_working_time(at(2026, 8, 21, 17, 30), 1, WD) == at(2026, 8, 22, 17)
    assert before.is_working_day(date(2026, 8, 22)) is False  # old value unchanged


def test_override_is_audited(seeded: Session) -> None:
    day = date(2026, 8, 22)
    result = service.set_override(
        seeded, actor=ADMIN, day=day, kind=DayKind.WORKING, name="  Làm bù  ", note=None
    )
    assert result.source is DaySource.ADMIN
    assert result.name == "Làm bù"
    (event,) = _events(seeded, "calendar.day.set", day)
    assert event.actor_id == "7"
    assert event.object_type == "calendar_day"
    assert event.data["old"] is None
    assert event.data["new"]["kind"] == "working"

    service.set_override(seeded, actor=ADMIN, day=day, kind="holiday", name="Nghỉ", note="x")
    events = _events(seeded, "calendar.day.set", day)
    assert len(events) == 2
    second = max(events, key=lambda e: e.id)
    assert second.data["old"]["kind"] == "working"
    assert second.data["new"] == {
        "day": "2026-08-22",
        "kind": "holiday",
        "name": "Nghỉ",
        "source": "admin",
        "note": "x",
    }
    row = seeded.get(CalendarDay, day)
    assert row is not None
    assert row.updated_by == "7"

    service.delete_override(seeded, actor=ADMIN, day=day)
    assert seeded.get(CalendarDay, day) is None
    (deleted,) = _events(seeded, "calendar.day.delete", day)
    assert deleted.data["old"]["name"] == "Nghỉ"
    assert deleted.data["new"] is None


def test_non_admin_is_forbidden(seeded: Session) -> None:
    day = date(2026, 8, 22)
    for actor in (HANDLER, CITIZEN):
        with pytest.raises(Forbidden):
            service.set_override(seeded, actor=actor, day=day, kind="working", name="Làm bù")
        with pytest.raises(Forbidden):
            service.delete_override(seeded, actor=actor, day=date(2026, 9, 2))
    assert seeded.get(CalendarDay, day) is None
    assert _events(seeded, "calendar.day.set", day) == []


def test_override_validation(seeded: Session) -> None:
    with pytest.raises(Invalid) as info:
        service.set_override(seeded, actor=ADMIN, day=date(2026, 8, 22), kind="party", name="x")
    assert info.value.errors[0].field == "kind"
    with pytest.raises(Invalid) as info:
        service.set_override(seeded, actor=ADMIN, day=date(2026, 8, 22), kind="working", name=" ")
    assert info.value.errors[0].field == "name"
    with pytest.raises(NotFound):
        service.delete_override(seeded, actor=ADMIN, day=date(2026, 3, 3))


# --- seeding ----------------------------------------------------------------------------


def _count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM calendar_days")).scalar_one())


def test_seeding_is_idempotent(session: Session) -> None:
    # The test database is set up like an installation (holidays already seeded): start over.
    session.execute(text("DELETE FROM calendar_days"))
    before = len(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.seed")).all()
    )
    first = service.seed_from_holidays_package(session, [2026])
    assert first == _count(session)
    assert first >= 13
    assert service.seed_from_holidays_package(session, [2026]) == 0
    assert _count(session) == first
    seeds = session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.seed")).all()
    assert len(seeds) == before + 1


def test_reseeding_keeps_admin_rows(seeded: Session, settings: Settings) -> None:
    # An admin cancels a (hypothetical) package holiday and renames another one.
    service.set_override(
        seeded, actor=ADMIN, day=date(2026, 9, 1), kind="working", name="Đi làm bình thường"
    )
    service.set_override(
        seeded, actor=ADMIN, day=date(2026, 11, 24), kind="holiday", name="Ngày Văn hóa"
    )
    service.seed_from_holidays_package(seeded, range(2025, 2028))
    first = seeded.get(CalendarDay, date(2026, 9, 1))
    second = seeded.get(CalendarDay, date(2026, 11, 24))
    assert first is not None
    assert second is not None
    assert (first.kind, first.source, first.name) == ("working", "admin", "Đi làm bình thường")
    assert (second.source, second.name) == ("admin", "Ngày Văn hóa")
    cal = service.load_calendar(seeded, settings)
    assert cal.is_working_day(date(2026, 9, 1))


def test_reseeding_repairs_package_rows(seeded: Session) -> None:
    seeded.execute(
        update(CalendarDay)
        .where(CalendarDay.day == date(2026, 1, 1))
        .values(name="sửa tay", kind="working")
    )
    stray = CalendarDay(
        day=date(2026, 3, 3),
        kind="holiday",
        name="không còn trong gói",
        source="holidays-package",
        updated_at=datetime.now(UTC),
    )
    seeded.add(stray)
    seeded.flush()
    assert service.seed_from_holidays_package(seeded, [2026]) == 2
    repaired = seeded.get(CalendarDay, date(2026, 1, 1))
    assert repaired is not None
    assert (repaired.name, repaired.kind) == ("Tết Dương lịch", "holiday")
    assert seeded.get(CalendarDay, date(2026, 3, 3)) is None


def test_default_seed_years() -> None:
    assert service.default_seed_years(date(2026, 11, 23)) == range(2020, 2029)


# --- command line -----------------------------------------------------------------------


def test_month_view(cal: WorkingCalendar) -> None:
    out = render_month(cal, 2026, 2)
    assert "Tháng 02/2026" in out
    for d in range(16, 21):
        assert f"[{d}]" in out
    assert "2026-02-17" in out
    assert "Tết Nguyên" in out
    assert "Số ngày làm việc: 15" in out


def test_cli_parsers() -> None:
    import argparse

    assert parse_years("2024-2028") == range(2024, 2029)
    assert parse_years("2026") == range(2026, 2027)
    assert parse_month("2026-02") == (2026, 2)
    for bad in ("2028-2024", "26", "abcd"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_years(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_month("2026-13")


def test_cli_add_working_time(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from cityhall.cli import main

    # The migrated test database has no seeded days: only weekends are off.
    assert (
        main(["calendar", "add-working-time", "2026-03-06T16:00+07:00", "1", "working_days"]) == 0
    )
    assert capsys.readouterr().out.strip() == "2026-03-09T16:00:00+07:00"
    assert main(["calendar", "add-working-time", "2026-03-06T16:00", "1", "working_days"]) == 2
    assert "múi giờ" in capsys.readouterr().out


def test_cli_show(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from cityhall.cli import main

    assert main(["calendar", "show", "2026-03"]) == 0
    out = capsys.readouterr().out
    assert "Tháng 03/2026" in out
    assert "Số ngày làm việc: 22" in out


def test_the_cached_calendar_follows_every_edit(session: Session, settings: Settings) -> None:
    """load_calendar keeps built calendars per process: an edit must never be missed."""
    from cityhall.core.actors import system_admin

    admin = system_admin()
    day = date(2031, 6, 10)  # a Tuesday with no holiday
    assert service.load_calendar(session, settings).is_working_day(day)
    service.set_override(session, actor=admin, day=day, kind="holiday", name="Nghỉ đột xuất")
    assert not service.load_calendar(session, settings).is_working_day(day)
    service.set_override(session, actor=admin, day=day, kind="working", name="Làm bù")
    assert service.load_calendar(session, settings).is_working_day(day)
    saturday = date(2031, 6, 14)
    service.set_override(session, actor=admin, day=saturday, kind="working", name="Làm bù")
    assert service.load_calendar(session, settings).is_working_day(saturday)
    service.delete_override(session, actor=admin, day=saturday)
    assert not service.load_calendar(session, settings).is_working_day(saturday)
