"""Read models of the feedback domain (signatures; bodies being filled in)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor
from cityhall.feedback.schemas import (
    AgencyStats,
    CategoryGroupOut,
    CategoryOut,
    InboxPage,
    InboxQuery,
    NearbyReport,
    OwnReportItem,
    PublicPage,
    PublicQuery,
    PublicReport,
    RatingTarget,
    StaffReport,
    TrackedReport,
)


def category_groups(session: Session) -> list[CategoryGroupOut]:
    """Every active category, by group (the report form's choices)."""
    raise NotImplementedError


def get_category(session: Session, code: str) -> CategoryOut:
    """One category with its extra questions; NotFound when unknown or retired."""
    raise NotImplementedError


def nearby_open(
    session: Session,
    category: str,
    lat: float,
    long: float,
    *,
    radius_m: int | None = None,
    limit: int = 5,
) -> list[NearbyReport]:
    """Open, public (moderated) reports of ``category`` within its duplicate radius (or
    ``radius_m``) of the point, nearest first."""
    raise NotImplementedError


def public_reports(session: Session, query: PublicQuery, *, settings: Settings) -> PublicPage:
    """The public map and list: moderated reports only, newest first; ``.geojson()`` on the
    result gives a FeatureCollection."""
    raise NotImplementedError


def public_report(session: Session, public_id: str, *, settings: Settings) -> PublicReport:
    """One report's public page: moderated text, history without personal data. NotFound
    when unknown or not (yet) approved by a moderator."""
    raise NotImplementedError


def tracked_report(
    session: Session,
    *,
    settings: Settings,
    token: str | None = None,
    actor: Actor | None = None,
    public_id: str | None = None,
) -> TrackedReport:
    """The reporter's own view: by tracking ``token``, or by ``public_id`` for the citizen
    ``actor`` who sent it (or follows it). NotFound otherwise (never says which)."""
    raise NotImplementedError


def own_reports(session: Session, *, actor: Actor, limit: int = 50) -> list[OwnReportItem]:
    """The logged-in citizen's reports and the ones they follow, newest first."""
    raise NotImplementedError


def rating_target(
    session: Session,
    *,
    public_id: str,
    settings: Settings,
    actor: Actor | None = None,
    token: str | None = None,
) -> RatingTarget:
    """For ``cityhall.engagement``: the report the reporter (citizen ``actor`` or the holder
    of ``token``) may rate. NotFound when not theirs; Conflict when not answered yet."""
    raise NotImplementedError


def agency_stats(
    session: Session, *, since: datetime, until: datetime, settings: Settings
) -> list[AgencyStats]:
    """Per responsible agency: reports received in the period, answered, answered on time,
    open and overdue now, median time to forward and to answer (for the public rankings)."""
    raise NotImplementedError


def inbox(session: Session, *, actor: Actor, query: InboxQuery, settings: Settings) -> InboxPage:
    """Staff: the reports of the actor's units (dispatchers and moderators: city-wide)."""
    raise NotImplementedError


def staff_report(
    session: Session, *, actor: Actor, public_id: str, settings: Settings
) -> StaffReport:
    """Staff: one report with the reporter's contact (audited read); Forbidden outside the
    actor's units."""
    raise NotImplementedError
