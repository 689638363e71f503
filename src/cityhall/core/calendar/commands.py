"""Command-line subcommands: ``cityhall calendar seed|show|add-working-time``."""

from __future__ import annotations

import argparse
import calendar as stdcal
import re
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from cityhall.core.calendar.rules import DayKind, TimeUnit, WorkingCalendar

_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def _unit_of_work() -> AbstractContextManager[Session]:
    from cityhall.db import command_session

    return command_session()


def parse_years(text: str) -> range:
    """``2024-2028`` or ``2026`` -> the years, both ends included."""
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
    if not match:
        raise argparse.ArgumentTypeError("năm phải theo dạng YYYY hoặc YYYY-YYYY")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if last < first or last - first > 50:
        raise argparse.ArgumentTypeError("khoảng năm không hợp lệ (tối đa 50 năm)")
    return range(first, last + 1)


def parse_month(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError("tháng phải theo dạng YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def render_month(calendar: WorkingCalendar, year: int, month: int) -> str:
    """A month grid (days off in brackets, make-up days marked +) and the list of overrides."""
    lines = [f"Tháng {month:02d}/{year}", " ".join(f"{w:>4}" for w in _WEEKDAYS)]
    for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for d in week:
            if d.month != month:
                cells.append("    ")
            elif not calendar.is_working_day(d):
                cells.append(f"[{d.day:2d}]")
            elif d.weekday() >= 5:
                cells.append(f"+{d.day:2d} ")
            else:
                cells.append(f" {d.day:2d} ")
        lines.append(" ".join(cells))
    lines.append("[..] ngày nghỉ   +.. ngày làm bù")
    first = date(year, month, 1)
    last = date(year, month, stdcal.monthrange(year, month)[1])
    overrides = calendar.overrides_between(first, last)
    if overrides:
        lines.append("")
    for o in overrides:
        label = "nghỉ" if o.kind is DayKind.HOLIDAY else "làm bù"
        note = f" — {o.note}" if o.note else ""
        lines.append(
            f"{o.day.isoformat()} {_WEEKDAYS[o.day.weekday()]:>2}  {label:<6} {o.name} "
            f"({o.source.value}){note}"
        )
    working = sum(
        calendar.is_working_day(date(year, month, n))
        for n in range(1, stdcal.monthrange(year, month)[1] + 1)
    )
    lines.append(f"Số ngày làm việc: {working}")
    return "\n".join(lines)


def cmd_seed(args: argparse.Namespace) -> int:
    from cityhall.core.calendar import service

    years = args.years or service.default_seed_years()
    with _unit_of_work() as session:
        changed = service.seed_from_holidays_package(session, years)
    print(f"calendar: {changed} ngày được thêm/cập nhật/xóa cho các năm {years[0]}-{years[-1]}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.core.calendar import service

    year, month = args.month
    with _unit_of_work() as session:
        calendar = service.load_calendar(session, get_settings())
    print(render_month(calendar, year, month))
    return 0


def cmd_add_working_time(args: argparse.Namespace) -> int:
    from cityhall.config import get_settings
    from cityhall.core.calendar import service
    from cityhall.errors import DomainError

    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        print("Thời điểm phải theo chuẩn ISO 8601, ví dụ 2026-02-13T16:00+07:00.")
        return 2
    try:
        amount = Decimal(args.amount)
    except InvalidOperation:
        print("Số lượng phải là một số.")
        return 2
    with _unit_of_work() as session:
        calendar = service.load_calendar(session, get_settings())
    try:
        deadline = calendar.add_working_time(start, amount, args.unit)
    except DomainError as exc:
        print(str(exc))
        return 2
    print(deadline.isoformat())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to ``cityhall``."""
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="calendar_command", required=True
    )
    p = cal.add_parser("seed", help="load public holidays from the `holidays` package")
    p.add_argument(
        "--years", type=parse_years, help="YYYY or YYYY-YYYY (default: 2020 to two years ahead)"
    )
    p.set_defaults(func=cmd_seed)
    p = cal.add_parser("show", help="a month: days off and make-up working days")
    p.add_argument("month", type=parse_month, help="YYYY-MM")
    p.set_defaults(func=cmd_show)
    p = cal.add_parser("add-working-time", help="compute a deadline")
    p.add_argument("start", help="ISO 8601 with an offset, e.g. 2026-02-13T16:00+07:00")
    p.add_argument("amount", help="a number, e.g. 3 or 0.5")
    p.add_argument("unit", choices=[u.value for u in TimeUnit])
    p.set_defaults(func=cmd_add_working_time)
