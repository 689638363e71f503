"""Small read helpers of the citizen portal's feedback pages (read-only, through the
feedback domain's own queries and the places reference data; nothing personal is returned
to the public): filter choices, the public photo check, form fields from a category's
Open311 attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from unidecode import unidecode

from cityhall.config import Settings
from cityhall.feedback import queries
from cityhall.feedback.schemas import AttributeOut, CategoryGroupOut, PublicReport, TrackedReport
from cityhall.places import queries as places
from cityhall.places.schemas import UnitQuery


def ward_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the city's wards, communes and special zone, by name."""
    page = places.search_units(session, UnitQuery.model_validate({"limit": 200}))
    return sorted(((u.code, u.name) for u in page.items if u.level == 2), key=lambda u: u[1])


def category_choices(session: Session) -> list[CategoryGroupOut]:
    return queries.category_groups(session)


def _fold(text: str) -> str:
    return unidecode(text).casefold()


def match_categories(groups: list[CategoryGroupOut], q: str) -> list[CategoryGroupOut]:
    """The groups and categories whose name, group, description or keywords contain every
    word of ``q`` (with or without diacritics)."""
    words = _fold(q).split()
    if not words:
        return groups
    out = []
    for g in groups:
        hits = [
            c
            for c in g.categories
            if all(
                w in _fold(" ".join([c.name, g.name, c.description, *c.keywords])) for w in words
            )
        ]
        if hits:
            out.append(g.model_copy(update={"categories": hits}))
    return out


def public_photos(report: PublicReport) -> set[str]:
    """Every photo the public page of ``report`` shows (its own, once moderated, and the
    results'), and so may serve."""
    shas = set(report.photos)
    for h in report.history:
        shas.update(h.photos)
    return shas


def tracked_photos(report: TrackedReport) -> set[str]:
    shas = set(report.photos)
    for h in report.history:
        shas.update(h.photos)
    return shas


def result_photos(history: list[Any]) -> list[str]:
    seen: list[str] = []
    for h in history:
        for sha in h.photos:
            if sha not in seen:
                seen.append(sha)
    return seen


@dataclass(frozen=True)
class Question:
    """One extra question of a category, as a form field named ``attr_<code>``."""

    name: str
    code: str
    label: str
    widget: str  # text, number, datetime, textarea, select, checkboxes
    required: bool
    hint: str | None
    options: list[tuple[str, str]]


WIDGETS = {
    "string": "text",
    "number": "number",
    "datetime": "datetime",
    "text": "textarea",
    "singlevaluelist": "select",
    "multivaluelist": "checkboxes",
}


def questions(attributes: list[AttributeOut]) -> list[Question]:
    return [
        Question(
            name=f"attr_{a.code}",
            code=a.code,
            label=a.description,
            widget=WIDGETS.get(a.datatype, "text"),
            required=a.required,
            hint=a.datatype_description,
            options=[(v.key, v.name) for v in a.values],
        )
        for a in sorted(attributes, key=lambda a: a.order)
        if a.variable
    ]


def map_settings(settings: Settings) -> dict[str, str]:
    return {"tiles": settings.map_tile_url, "attribution": settings.map_tile_attribution}


def answered_reports_of_citizens(session: Session, *, limit: int = 1000) -> list[tuple[str, int]]:
    """(public id, reporter's citizen id) of answered reports sent by logged-in citizens,
    oldest first: what the engagement demo data rates (read-only)."""
    from sqlalchemy import select

    from cityhall.feedback.models import Report
    from cityhall.feedback.schemas import State

    rows = session.execute(
        select(Report.public_id, Report.reporter_citizen_id)
        .where(
            Report.state.in_([State.RESOLVED.value, State.REJECTED.value]),
            Report.reporter_citizen_id.is_not(None),
            Report.anonymous.is_(False),
        )
        .order_by(Report.resolved_at, Report.id)
        .limit(limit)
    ).all()
    return [(str(p), int(c)) for p, c in rows if c is not None]
