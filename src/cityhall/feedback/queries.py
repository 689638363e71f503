"""Read models of the feedback domain, each scoped to who asks.

- Public (map, list, report page, nearby hint): moderated (approved) reports only, their
  moderated text, never the reporter's identity or contact.
- The reporter (tracking token, or the logged-in citizen): their own report as sent.
- Staff: the reports of their units (dispatchers and moderators city-wide); reading a
  report with the reporter's contact is audited.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor, ActorKind
from cityhall.core.search import like_escape
from cityhall.errors import Conflict, Forbidden, NotFound
from cityhall.feedback import permissions as perms
from cityhall.feedback.lifecycle import ACTION_LABELS, STATE_LABELS
from cityhall.feedback.models import (
    GEO_EXPR,
    LONG_SCALE,
    METRES_PER_DEGREE,
    OPEN_SQL,
    Category,
    CategoryGroup,
    Follower,
    Report,
    ReportEvent,
)
from cityhall.feedback.schemas import (
    CLOSED_STATES,
    OPEN_STATES,
    AgencyRef,
    AgencyStats,
    AgencyType,
    AttributeOut,
    CategoryGroupOut,
    CategoryOut,
    Channel,
    HistoryItem,
    InboxItem,
    InboxPage,
    InboxQuery,
    Moderation,
    NearbyReport,
    OwnReportItem,
    PublicListItem,
    PublicPage,
    PublicQuery,
    PublicReport,
    RatingTarget,
    StaffReport,
    State,
    TrackedReport,
)
from cityhall.feedback.service.common import PURPOSE, token_digest
from cityhall.places import geo
from cityhall.places import queries as places

ANSWERED = (State.RESOLVED.value, State.REJECTED.value)
# History entries the public does not see at all (moderation is internal).
INTERNAL_ACTIONS = frozenset({"moderate"})


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(value: str | None, length: int = 200) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= length else value[: length - 1].rstrip() + "…"


# --- categories -----------------------------------------------------------------------------


def _category_out(c: Category, group: str) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        name=c.name,
        group_code=c.group_code,
        group=group,
        description=c.description,
        keywords=list(c.keywords),
        agency_type=AgencyType(c.agency_type),
        agency_code=c.agency_code,
        answer_days=c.answer_days,
        duplicate_radius_m=c.duplicate_radius_m,
        anonymous_allowed=c.anonymous_allowed,
        attributes=[AttributeOut.model_validate(a) for a in c.attributes],
    )


def categories(session: Session, *, active: bool = True) -> list[CategoryOut]:
    stmt = (
        select(Category, CategoryGroup.name)
        .join(CategoryGroup, CategoryGroup.code == Category.group_code)
        .order_by(CategoryGroup.position, Category.position)
    )
    if active:
        stmt = stmt.where(Category.active.is_(True))
    return [_category_out(c, g) for c, g in session.execute(stmt).all()]


def category_groups(session: Session) -> list[CategoryGroupOut]:
    """Every active category, by group (the report form's choices)."""
    groups: dict[str, CategoryGroupOut] = {}
    names = dict(session.execute(select(CategoryGroup.code, CategoryGroup.name)).all())
    for c in categories(session):
        group = groups.setdefault(
            c.group_code,
            CategoryGroupOut(code=c.group_code, name=names[c.group_code], categories=[]),
        )
        group.categories.append(c)
    return list(groups.values())


def get_category(session: Session, code: str) -> CategoryOut:
    """One category with its extra questions; NotFound when unknown or retired."""
    row = session.execute(
        select(Category, CategoryGroup.name)
        .join(CategoryGroup, CategoryGroup.code == Category.group_code)
        .where(Category.code == code[:64], Category.active.is_(True))
    ).one_or_none()
    if row is None:
        raise NotFound("Không có lĩnh vực phản ánh “{code}”.", code=code[:64])
    return _category_out(row[0], row[1])


def _names(session: Session) -> dict[str, tuple[str, str]]:
    """code -> (category name, group name), retired ones included."""
    rows = session.execute(
        select(Category.code, Category.name, CategoryGroup.name).join(
            CategoryGroup, CategoryGroup.code == Category.group_code
        )
    ).all()
    return {code: (name, group) for code, name, group in rows}


# --- the nearby hint ------------------------------------------------------------------------

_NEARBY = text(
    f"""
    SELECT r.public_id, r.category_code, r.state, r.public_description, r.received_at,
           ({GEO_EXPR} <-> point(:x, :y)) * {METRES_PER_DEGREE} AS distance_m,
           (SELECT count(*) FROM feedback_followers f WHERE f.report_id = r.id) AS followers
    FROM feedback_reports r
    WHERE r.category_code = :category AND {OPEN_SQL} AND r.lat IS NOT NULL
      AND {GEO_EXPR} <@ circle(point(:x, :y), :radius)
      AND r.moderation = 'approved'
    ORDER BY {GEO_EXPR} <-> point(:x, :y)
    LIMIT :limit
    """
)


_RADII: dict[str, tuple[float, tuple[str, int]]] = {}
_RADII_TTL = 300.0  # reference data: a category's name and radius, kept 5 minutes


def _radius(session: Session, code: str) -> tuple[str, int]:
    hit = _RADII.get(code)
    if hit is not None and time.monotonic() - hit[0] < _RADII_TTL:
        return hit[1]
    found = session.execute(
        select(Category.name, Category.duplicate_radius_m).where(Category.code == code)
    ).one_or_none()
    if found is None:
        raise NotFound("Không có lĩnh vực phản ánh “{code}”.", code=code)
    value = (str(found[0]), int(found[1]))
    if len(_RADII) < 1000:
        _RADII[code] = (time.monotonic(), value)
    return value


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
    ``radius_m``) of the point, nearest first. Uses the GiST index on open reports."""
    name, default_radius = _radius(session, category[:64])
    radius = max(1, min(radius_m or default_radius, 5000))
    rows = session.execute(
        _NEARBY,
        {
            "x": long * LONG_SCALE,
            "y": lat,
            "radius": radius / METRES_PER_DEGREE,
            "category": category,
            "limit": max(1, min(limit, 50)),
        },
    ).all()
    return [
        NearbyReport(
            public_id=r.public_id,
            category_code=r.category_code,
            category_name=name,
            state=State(r.state),
            state_label=STATE_LABELS[State(r.state)],
            summary=_summary(r.public_description),
            distance_m=round(r.distance_m),
            received_at=r.received_at,
            followers=int(r.followers),
        )
        for r in rows
    ]


# --- public ---------------------------------------------------------------------------------


def _overdue(r: Report, now: datetime) -> bool:
    return State(r.state) in OPEN_STATES and r.due_at is not None and r.due_at < now


def _public_filters(query: PublicQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Report.moderation == Moderation.APPROVED.value]
    if query.category_code:
        where.append(Report.category_code == query.category_code)
    if query.group_code:
        where.append(
            Report.category_code.in_(
                select(Category.code).where(Category.group_code == query.group_code)
            )
        )
    if query.state:
        where.append(Report.state == query.state.value)
    if query.status == "open":
        where.append(Report.state.in_([s.value for s in OPEN_STATES]))
    elif query.status == "closed":
        where.append(Report.state.in_([s.value for s in CLOSED_STATES]))
    if query.unit_code:
        where.append(Report.unit_code == query.unit_code)
    if query.bbox:
        south, west, north, east = query.bbox
        where += [
            Report.lat.between(min(south, north), max(south, north)),
            Report.long.between(min(west, east), max(west, east)),
        ]
    return where


def public_reports(session: Session, query: PublicQuery, *, settings: Settings) -> PublicPage:
    """The public map and list: moderated reports only, newest first; ``.geojson()`` on the
    result gives a FeatureCollection of those with a point."""
    where = _public_filters(query)
    total = int(session.scalar(select(func.count()).select_from(Report).where(*where)) or 0)
    rows = session.scalars(
        select(Report)
        .where(*where)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    ).all()
    names = _names(session)
    now = _now()
    return PublicPage(
        items=[
            PublicListItem(
                public_id=r.public_id,
                category_code=r.category_code,
                category_name=names.get(r.category_code, (r.category_code, ""))[0],
                state=State(r.state),
                state_label=STATE_LABELS[State(r.state)],
                open=State(r.state) in OPEN_STATES,
                summary=_summary(r.public_description),
                lat=r.lat,
                long=r.long,
                unit_code=r.unit_code,
                unit_name=geo.unit_name(r.unit_code),
                received_at=r.received_at,
                overdue=_overdue(r, now),
            )
            for r in rows
        ],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


def _history(session: Session, report_id: int, *, staff: bool = False) -> list[HistoryItem]:
    events = session.scalars(
        select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.seq)
    ).all()
    return [
        HistoryItem(
            seq=e.seq,
            action=e.action,
            action_label=ACTION_LABELS.get(e.action, e.action),
            state=State(e.to_state),
            state_label=STATE_LABELS[State(e.to_state)],
            at=e.at,
            note=e.note if (staff or e.public_note) else None,
            committed_date=e.committed_date,
            photos=list(e.photos or []),
            actor=e.actor_label if staff else None,
        )
        for e in events
        if staff or e.action not in INTERNAL_ACTIONS
    ]


def _agency_ref(session: Session, code: str | None) -> AgencyRef | None:
    if code is None:
        return None
    found = places.agencies_by_code(session, [code]).get(code)
    return AgencyRef(code=code, name=found.name if found else code)


def _public_id(value: str) -> str:
    return value.strip().upper()[:24]


def _followers(session: Session, report_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Follower.report_id == report_id)) or 0)


def _duplicate_of(session: Session, r: Report) -> str | None:
    if r.duplicate_of_id is None:
        return None
    return session.scalar(select(Report.public_id).where(Report.id == r.duplicate_of_id))


def public_report(session: Session, public_id: str, *, settings: Settings) -> PublicReport:
    """One report's public page: moderated text, history without personal data. NotFound
    when unknown or not (yet) approved by a moderator."""
    r = session.scalars(
        select(Report).where(
            Report.public_id == _public_id(public_id),
            Report.moderation == Moderation.APPROVED.value,
        )
    ).one_or_none()
    if r is None:
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    name, group = _names(session).get(r.category_code, (r.category_code, ""))
    state = State(r.state)
    return PublicReport(
        public_id=r.public_id,
        category_code=r.category_code,
        category_name=name,
        group=group,
        state=state,
        state_label=STATE_LABELS[state],
        open=state in OPEN_STATES,
        description=r.public_description or "",
        lat=r.lat,
        long=r.long,
        address=r.address,
        unit_code=r.unit_code,
        unit_name=geo.unit_name(r.unit_code),
        agency=_agency_ref(session, r.agency_code),
        received_at=r.received_at,
        updated_at=r.updated_at,
        due_at=r.due_at,
        resolved_at=r.resolved_at,
        overdue=_overdue(r, _now()),
        photos=list(r.photos) + list(r.result_photos),
        duplicate_of=_duplicate_of(session, r),
        followers=_followers(session, r.id),
        history=_history(session, r.id),
    )


# --- the reporter ---------------------------------------------------------------------------


def _is_reporter(actor: Actor | None, r: Report) -> bool:
    return (
        actor is not None
        and actor.kind is ActorKind.CITIZEN
        and actor.id is not None
        and r.reporter_citizen_id is not None
        and actor.id == str(r.reporter_citizen_id)
    )


def _follows(session: Session, actor: Actor | None, r: Report) -> bool:
    if actor is None or actor.kind is not ActorKind.CITIZEN or actor.id is None:
        return False
    return (
        session.scalar(
            select(Follower.id).where(
                Follower.report_id == r.id, Follower.who == f"citizen:{actor.id}"
            )
        )
        is not None
    )


def _reporters_report(
    session: Session, *, token: str | None, actor: Actor | None, public_id: str | None
) -> tuple[Report, bool]:
    """(report, is the asker its reporter); NotFound unless the asker holds the token, sent
    it, or follows it."""
    r: Report | None = None
    if token:
        r = session.scalars(
            select(Report).where(Report.token_hash == token_digest(token[:100]))
        ).one_or_none()
        if r is not None and (public_id is None or r.public_id == _public_id(public_id)):
            return r, True
        r = None
    if public_id and actor is not None:
        r = session.scalars(
            select(Report).where(Report.public_id == _public_id(public_id))
        ).one_or_none()
        if r is not None and _is_reporter(actor, r):
            return r, True
        if r is not None and _follows(session, actor, r):
            return r, False
    raise NotFound("Không tìm thấy phản ánh.")


def tracked_report(
    session: Session,
    *,
    settings: Settings,
    token: str | None = None,
    actor: Actor | None = None,
    public_id: str | None = None,
) -> TrackedReport:
    """The reporter's own view: by tracking ``token``, or by ``public_id`` for the citizen
    ``actor`` who sent it (or follows it: then without the reporter's own text). NotFound
    otherwise (never says which)."""
    r, own = _reporters_report(session, token=token, actor=actor, public_id=public_id)
    name, _ = _names(session).get(r.category_code, (r.category_code, ""))
    state = State(r.state)
    until = (
        r.resolved_at + timedelta(days=settings.feedback_reopen_days)
        if r.resolved_at is not None and state in (State.RESOLVED, State.REJECTED)
        else None
    )
    return TrackedReport(
        public_id=r.public_id,
        category_code=r.category_code,
        category_name=name,
        state=state,
        state_label=STATE_LABELS[state],
        open=state in OPEN_STATES,
        description=r.description if own else (r.public_description or ""),
        public_description=r.public_description,
        moderation=Moderation(r.moderation),
        lat=r.lat,
        long=r.long,
        address=r.address,
        unit_name=geo.unit_name(r.unit_code),
        agency=_agency_ref(session, r.agency_code),
        received_at=r.received_at,
        due_at=r.due_at,
        resolved_at=r.resolved_at,
        committed_date=r.committed_date,
        duplicate_of=_duplicate_of(session, r),
        photos=list(r.photos) if own else [],
        history=_history(session, r.id),
        can_reopen=own and until is not None and _now() <= until,
        reopen_until=until if own else None,
        can_rate=own and r.state in ANSWERED and r.agency_code is not None,
    )


def own_reports(session: Session, *, actor: Actor, limit: int = 50) -> list[OwnReportItem]:
    """The logged-in citizen's reports and the ones they follow, newest first."""
    if actor.kind is not ActorKind.CITIZEN or actor.id is None:
        raise Forbidden()
    citizen_id = int(actor.id)
    followed = select(Follower.report_id).where(Follower.citizen_id == citizen_id)
    rows = session.scalars(
        select(Report)
        .where(or_(Report.reporter_citizen_id == citizen_id, Report.id.in_(followed)))
        .order_by(Report.received_at.desc())
        .limit(max(1, min(limit, 200)))
    ).all()
    names = _names(session)
    return [
        OwnReportItem(
            public_id=r.public_id,
            category_name=names.get(r.category_code, (r.category_code, ""))[0],
            state=State(r.state),
            state_label=STATE_LABELS[State(r.state)],
            received_at=r.received_at,
            updated_at=r.updated_at,
            following=r.reporter_citizen_id != citizen_id,
        )
        for r in rows
    ]


def rating_target(
    session: Session,
    *,
    public_id: str,
    settings: Settings,
    actor: Actor | None = None,
    token: str | None = None,
) -> RatingTarget:
    """For ``cityhall.engagement``: the report its reporter (citizen ``actor`` or the holder
    of ``token``) may rate. NotFound when not theirs; Conflict when not answered yet."""
    r, own = _reporters_report(session, token=token, actor=actor, public_id=public_id)
    if not own:
        raise NotFound("Không tìm thấy phản ánh.")
    if r.state not in ANSWERED or r.resolved_at is None:
        raise Conflict("Phản ánh chưa có kết quả; chỉ đánh giá được khi đã có trả lời.")
    if r.agency_code is None:
        raise Conflict("Phản ánh không có đơn vị xử lý để đánh giá.")
    if token and token_digest(token[:100]) == r.token_hash and not _is_reporter(actor, r):
        rater = f"token:{r.id}"
    else:
        rater = f"citizen:{r.reporter_citizen_id}"
    return RatingTarget(
        report_id=r.id,
        public_id=r.public_id,
        agency_code=r.agency_code,
        unit_code=r.unit_code,
        category_code=r.category_code,
        resolved_at=r.resolved_at,
        on_time=r.due_at is None or r.resolved_at <= r.due_at,
        rater_key=rater,
    )


def agency_stats(
    session: Session, *, since: datetime, until: datetime, settings: Settings
) -> list[AgencyStats]:
    """Per responsible agency: reports received in the period, answered, answered on time,
    open and overdue now, median time to forward and to answer (for the public rankings)."""
    now = _now()
    answered = Report.state.in_(ANSWERED) & Report.resolved_at.is_not(None)
    rows = session.execute(
        select(
            Report.agency_code,
            func.count(),
            func.count().filter(answered),
            func.count().filter(answered & (Report.resolved_at <= Report.due_at)),
            func.count().filter(text(OPEN_SQL) & (Report.due_at < now)),
            func.percentile_cont(0.5).within_group(
                func.extract("epoch", Report.forwarded_at - Report.received_at)
            ),
            func.percentile_cont(0.5).within_group(
                func.extract("epoch", Report.resolved_at - Report.received_at) / 3600.0
            ),
        )
        .where(
            Report.agency_code.is_not(None),
            Report.received_at >= since,
            Report.received_at < until,
            Report.state != State.MERGED.value,
        )
        .group_by(Report.agency_code)
    ).all()
    agencies = places.agencies_by_code(session, [r[0] for r in rows])
    out = []
    for code, received, done, on_time, overdue, forward, answer in rows:
        agency = agencies.get(code)
        out.append(
            AgencyStats(
                agency_code=code,
                agency_name=agency.name if agency else code,
                unit_code=(
                    agency.unit_code if agency and agency.kind == "ward_committee" else None
                ),
                received=received,
                answered=done,
                answered_on_time=on_time,
                open_overdue=overdue,
                median_forward_seconds=float(forward) if forward is not None else None,
                median_answer_hours=float(answer) if answer is not None else None,
            )
        )
    return sorted(out, key=lambda s: s.agency_code)


# --- staff ----------------------------------------------------------------------------------


def _scope(actor: Actor) -> ColumnElement[bool] | None:
    """None: city-wide; else the condition on the actor's units. Forbidden for others."""
    if perms.city_wide(actor):
        return None
    mine = perms.unit_agencies(actor)
    if not mine:
        raise Forbidden()
    return Report.agency_code.in_(sorted(mine))


def inbox(session: Session, *, actor: Actor, query: InboxQuery, settings: Settings) -> InboxPage:
    """Staff: the reports of the actor's units (dispatchers and moderators: city-wide);
    by default the open ones, most urgent deadline first."""
    scope = _scope(actor)
    where: list[ColumnElement[bool]] = [] if scope is None else [scope]
    now = _now()
    if query.state:
        where.append(Report.state.in_([s.value for s in query.state]))
    elif query.moderation is None:
        where.append(Report.state.in_([s.value for s in OPEN_STATES]))
    if query.overdue is True:
        where += [Report.state.in_([s.value for s in OPEN_STATES]), Report.due_at < now]
    elif query.overdue is False:
        where.append(or_(Report.due_at.is_(None), Report.due_at >= now))
    if query.category_code:
        where.append(Report.category_code == query.category_code)
    if query.agency_code:
        where.append(Report.agency_code == query.agency_code)
    if query.moderation:
        where.append(Report.moderation == query.moderation.value)
    if query.q:
        q = query.q.strip()
        where.append(
            or_(
                Report.public_id == q.upper(),
                Report.description.ilike(f"%{like_escape(q)}%", escape="\\"),
            )
        )
    total = int(session.scalar(select(func.count()).select_from(Report).where(*where)) or 0)
    rows = session.scalars(
        select(Report)
        .where(*where)
        .order_by(Report.due_at.asc().nulls_last(), Report.received_at.asc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    ).all()
    names = _names(session)
    return InboxPage(
        items=[
            InboxItem(
                public_id=r.public_id,
                category_name=names.get(r.category_code, (r.category_code, ""))[0],
                state=State(r.state),
                state_label=STATE_LABELS[State(r.state)],
                moderation=Moderation(r.moderation),
                channel=Channel(r.channel),
                summary=_summary(r.description, 140),
                agency_code=r.agency_code,
                unit_name=geo.unit_name(r.unit_code),
                received_at=r.received_at,
                due_at=r.due_at,
                overdue=_overdue(r, now),
                escalated=r.escalated_at is not None,
            )
            for r in rows
        ],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )


def staff_report(
    session: Session, *, actor: Actor, public_id: str, settings: Settings
) -> StaffReport:
    """Staff: one report with the reporter's contact (an audited read of personal data);
    NotFound outside the actor's units."""
    r = session.scalars(
        select(Report).where(Report.public_id == _public_id(public_id))
    ).one_or_none()
    facts = perms.Facts(State(r.state), r.agency_code) if r is not None else None
    if r is None or facts is None or not perms.can_see(actor, facts):
        raise NotFound("Không tìm thấy phản ánh {public_id}.", public_id=public_id[:24])
    category = get_category_any(session, r.category_code)
    identified = not r.anonymous
    audit.record(
        session,
        actor=actor,
        action="feedback.report.read",
        object_type="feedback_report",
        object_id=r.public_id,
        subject_id=r.reporter_pin,
        purpose=PURPOSE,
        data={"identified": identified},
    )
    duplicates = session.scalars(
        select(Report.public_id).where(Report.duplicate_of_id == r.id).order_by(Report.id)
    ).all()
    return StaffReport(
        id=r.id,
        public_id=r.public_id,
        category=category,
        channel=Channel(r.channel),
        state=State(r.state),
        state_label=STATE_LABELS[State(r.state)],
        moderation=Moderation(r.moderation),
        description=r.description,
        public_description=r.public_description,
        attributes=dict(r.attributes),
        anonymous=r.anonymous,
        # An anonymous reporter's contact serves only to notify them: staff never see it.
        reporter_name=r.reporter_name if identified else None,
        reporter_phone=r.reporter_phone if identified else None,
        reporter_email=r.reporter_email if identified else None,
        lat=r.lat,
        long=r.long,
        address=r.address,
        unit_code=r.unit_code,
        unit_name=geo.unit_name(r.unit_code),
        routing_note=r.routing_note,
        agency=_agency_ref(session, r.agency_code),
        received_at=r.received_at,
        forwarded_at=r.forwarded_at,
        due_at=r.due_at,
        committed_date=r.committed_date,
        resolved_at=r.resolved_at,
        escalated_at=r.escalated_at,
        overdue=_overdue(r, _now()),
        duplicate_of=_duplicate_of(session, r),
        duplicates=list(duplicates),
        photos=list(r.photos),
        result_photos=list(r.result_photos),
        history=_history(session, r.id, staff=True),
        allowed_actions=perms.allowed(actor, facts),
    )


def get_category_any(session: Session, code: str) -> CategoryOut:
    """A category, retired ones included (reports keep theirs)."""
    row = session.execute(
        select(Category, CategoryGroup.name)
        .join(CategoryGroup, CategoryGroup.code == Category.group_code)
        .where(Category.code == code)
    ).one()
    return _category_out(row[0], row[1])


def merge_candidates(
    session: Session, *, actor: Actor, public_id: str, limit: int = 10
) -> list[InboxItem]:
    """Staff: open reports of the same category near this one (any moderation), within the
    actor's scope, nearest first: what it may be a duplicate of."""
    r = session.scalars(
        select(Report).where(Report.public_id == _public_id(public_id))
    ).one_or_none()
    if r is None or r.lat is None or r.long is None:
        return []
    scope = _scope(actor)
    radius = (
        session.scalar(select(Category.duplicate_radius_m).where(Category.code == r.category_code))
        or 200
    )
    where: list[Any] = [
        Report.category_code == r.category_code,
        text(OPEN_SQL),
        Report.lat.is_not(None),
        Report.id != r.id,
        text(f"{GEO_EXPR} <@ circle(point(:cx, :cy), :cr)").bindparams(
            cx=r.long * LONG_SCALE, cy=r.lat, cr=radius / METRES_PER_DEGREE
        ),
    ]
    if scope is not None:
        where.append(scope)
    rows = session.scalars(
        select(Report)
        .where(*where)
        .order_by(
            text(f"{GEO_EXPR} <-> point(:ox, :oy)").bindparams(ox=r.long * LONG_SCALE, oy=r.lat)
        )
        .limit(limit)
    ).all()
    names = _names(session)
    now = _now()
    return [
        InboxItem(
            public_id=x.public_id,
            category_name=names.get(x.category_code, (x.category_code, ""))[0],
            state=State(x.state),
            state_label=STATE_LABELS[State(x.state)],
            moderation=Moderation(x.moderation),
            channel=Channel(x.channel),
            summary=_summary(x.description, 140),
            agency_code=x.agency_code,
            unit_name=geo.unit_name(x.unit_code),
            received_at=x.received_at,
            due_at=x.due_at,
            overdue=_overdue(x, now),
            escalated=x.escalated_at is not None,
        )
        for x in rows
    ]
