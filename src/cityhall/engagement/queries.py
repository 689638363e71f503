"""Read models of engagement: the reasons offered, the periods, and the public rankings of
wards and agencies (no personal data: counts and rates only).

Satisfaction = (very satisfied + satisfied) / ratings given in the period. A ward or agency
with fewer than ``ranking_min_ratings`` ratings is listed but not ranked (a rate of 2 out of 2
says little). On-time rates come from the dossiers (results returned by the first
appointment date) and from feedback (answers by the deadline).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.i18n import N_
from cityhall.dossiers import stats as dossier_stats
from cityhall.engagement.models import Rating
from cityhall.engagement.schemas import (
    LEVEL_LABELS,
    REASONS,
    Level,
    LevelOut,
    Period,
    PeriodKind,
    RankingKind,
    RankingRow,
    Rankings,
    RankingSort,
    ReasonOut,
)
from cityhall.errors import FieldError, Invalid
from cityhall.feedback import queries as feedback
from cityhall.places import queries as places
from cityhall.places.schemas import UnitQuery


def reasons() -> list[LevelOut]:
    return [
        LevelOut(
            level=level,
            label=LEVEL_LABELS[level],
            reasons=[ReasonOut(code=c, label=label) for c, label in REASONS[level].items()],
        )
        for level in Level
    ]


# --- periods -------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period(value: str | None, *, today: date) -> Period:
    """``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year); the current year
    when empty. Invalid otherwise (named field ``period``)."""
    text = (value or "").strip()
    if not text:
        text = str(today.year)
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            start = date(year, month, 1)
            return Period(
                kind=PeriodKind.MONTH,
                key=f"{year}-{month:02d}",
                label=f"{month:02d}/{year}",
                start=start,
                end=_add_months(start, 1),
            )
    elif m := _QUARTER.match(text):
        year, quarter = int(m.group(1)), int(m.group(2))
        if 2000 <= year <= 2100:
            start = date(year, 3 * quarter - 2, 1)
            return Period(
                kind=PeriodKind.QUARTER,
                key=f"{year}-Q{quarter}",
                label=f"Q{quarter}/{year}",
                start=start,
                end=_add_months(start, 3),
            )
    elif m := _YEAR.match(text):
        year = int(m.group(1))
        if 2000 <= year <= 2100:
            return Period(
                kind=PeriodKind.YEAR,
                key=str(year),
                label=str(year),
                start=date(year, 1, 1),
                end=date(year + 1, 1, 1),
            )
    raise Invalid(
        errors=[
            FieldError(
                "period",
                N_(
                    "Kỳ không hợp lệ: {value}. Dùng 2026-11 (tháng), 2026-Q4 (quý) hoặc 2026 (năm)."
                ),
                {"value": text[:20]},
            )
        ]
    )


def recent_periods(today: date) -> list[Period]:
    """The choices the rankings page offers: this year and last, their quarters so far and
    the last twelve months."""
    out = [period(str(today.year), today=today), period(str(today.year - 1), today=today)]
    current_q = (today.month - 1) // 3 + 1
    out += [period(f"{today.year}-Q{q}", today=today) for q in range(current_q, 0, -1)]
    start = date(today.year, today.month, 1)
    out += [period(_add_months(start, -i).strftime("%Y-%m"), today=today) for i in range(12)]
    return out


def _bounds(p: Period, settings: Settings) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.timezone)
    start = datetime(p.start.year, p.start.month, p.start.day, tzinfo=zone).astimezone(UTC)
    end = datetime(p.end.year, p.end.month, p.end.day, tzinfo=zone).astimezone(UTC)
    return start, end


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


# --- rankings ------------------------------------------------------------------------------


def _rating_counts(
    session: Session, key: Any, start: datetime, end: datetime
) -> dict[str, tuple[int, int, int]]:
    rows = session.execute(
        select(
            key,
            func.count(case((Rating.level == Level.VERY_SATISFIED.value, 1))),
            func.count(case((Rating.level == Level.SATISFIED.value, 1))),
            func.count(case((Rating.level == Level.NOT_SATISFIED.value, 1))),
        )
        .where(Rating.rated_at >= start, Rating.rated_at < end, key.is_not(None))
        .group_by(key)
    ).all()
    return {str(k): (int(a), int(b), int(c)) for k, a, b, c in rows}


def _report_stats(
    session: Session, kind: RankingKind, start: datetime, end: datetime, settings: Settings
) -> dict[str, tuple[int, int]]:
    """(answered, answered on time) per agency, or per ward (its committee's figures)."""
    stats = feedback.agency_stats(session, since=start, until=end, settings=settings)
    out: dict[str, tuple[int, int]] = {}
    for s in stats:
        key = s.agency_code if kind is RankingKind.AGENCIES else s.unit_code
        if not key:
            continue
        answered, on_time = out.get(key, (0, 0))
        out[key] = (answered + s.answered, on_time + s.answered_on_time)
    return out


def _names(session: Session, kind: RankingKind, codes: set[str]) -> dict[str, str]:
    if kind is RankingKind.WARDS:
        page = places.search_units(session, UnitQuery.model_validate({"limit": 200}))
        return {u.code: u.name for u in page.items if u.level == 2}
    found = places.agencies_by_code(session, sorted(codes))
    return {code: a.name for code, a in found.items()}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rankings(
    session: Session,
    *,
    kind: RankingKind,
    period_value: str | None,
    settings: Settings,
    sort: RankingSort = RankingSort.RANK,
    descending: bool | None = None,
) -> Rankings:
    """Every ward (or agency) with ratings, finished dossiers or answered reports in the
    period, with its rank by satisfaction (ties share a rank; too few ratings: no rank)."""
    p = period(period_value, today=today(settings))
    start, end = _bounds(p, settings)
    key = Rating.unit_code if kind is RankingKind.WARDS else Rating.agency_code
    counts = _rating_counts(session, key, start, end)
    dossiers = dossier_stats.on_time_by(
        session, by="unit" if kind is RankingKind.WARDS else "agency", start=start, end=end
    )
    reports = _report_stats(session, kind, start, end, settings)
    codes = set(counts) | set(dossiers) | set(reports)
    names = _names(session, kind, codes)
    if kind is RankingKind.WARDS:
        codes &= names.keys()  # wards and communes only (not the city, "79")
    rows: list[RankingRow] = []
    for code in codes:
        very, sat, not_sat = counts.get(code, (0, 0, 0))
        total = very + sat + not_sat
        d = dossiers.get(code)
        answered, on_time = reports.get(code, (0, 0))
        rows.append(
            RankingRow(
                code=code,
                name=names.get(code, code),
                rank=None,
                ratings=total,
                very_satisfied=very,
                satisfied=sat,
                not_satisfied=not_sat,
                satisfaction=_ratio(very + sat, total),
                dossiers_finished=d.finished if d else 0,
                dossiers_on_time=d.rate if d else None,
                reports_answered=answered,
                reports_on_time=_ratio(on_time, answered),
            )
        )
    ranked = sorted(
        (r for r in rows if r.ratings >= settings.ranking_min_ratings),
        key=lambda r: (-(r.satisfaction or 0.0), -r.ratings, r.name),
    )
    previous: tuple[float | None, int] | None = None
    for position, row in enumerate(ranked, start=1):
        if previous is not None and previous[0] == row.satisfaction:
            row.rank = previous[1]
        else:
            row.rank = position
        previous = (row.satisfaction, row.rank)
    all_total = sum(r.ratings for r in rows)
    all_sat = sum(r.very_satisfied + r.satisfied for r in rows)
    desc = (sort not in (RankingSort.RANK, RankingSort.NAME)) if descending is None else descending
    return Rankings(
        kind=kind,
        period=p,
        min_ratings=settings.ranking_min_ratings,
        sort=sort,
        descending=desc,
        rows=_sorted(rows, sort, desc),
        total_ratings=all_total,
        satisfaction=_ratio(all_sat, all_total),
    )


def _sorted(rows: list[RankingRow], sort: RankingSort, descending: bool) -> list[RankingRow]:
    """Sorted by ``sort``; rows without a value (no rank, no rate) always last."""

    def value(r: RankingRow) -> Any:
        return {
            RankingSort.RANK: r.rank,
            RankingSort.NAME: r.name.casefold(),
            RankingSort.RATINGS: r.ratings,
            RankingSort.SATISFACTION: r.satisfaction,
            RankingSort.DOSSIERS_ON_TIME: r.dossiers_on_time,
            RankingSort.REPORTS_ON_TIME: r.reports_on_time,
        }[sort]

    by_name = sorted(rows, key=lambda r: r.name.casefold())
    present = [r for r in by_name if value(r) is not None]
    absent = [r for r in by_name if value(r) is None]
    present.sort(key=value, reverse=descending)
    return present + absent
