"""Demo data of the engagement domain, loaded by `cityhall setup --demo`: ratings of the demo
dossiers already returned and of the demo reports already answered (by their own applicant
or reporter, through the same service as a citizen's page), so the rankings have figures.

Idempotent: a dossier or report already rated is left alone. Tolerates the feedback demo
being empty (then only dossiers are rated)."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core.actors import Actor, ActorKind
from cityhall.dossiers import stats as dossier_stats
from cityhall.engagement import service
from cityhall.engagement.models import Rating
from cityhall.engagement.schemas import REASONS, Level, RatingIn
from cityhall.engagement.subjects import Subject, dossier_subject, report_subject
from cityhall.errors import DomainError
from cityhall.feedback import views as feedback_views

log = logging.getLogger(__name__)

# Most people who rate are satisfied; about one in six is not (HCMC's 2025 surveys: ~85 %).
WEIGHTS = ((Level.VERY_SATISFIED, 45), (Level.SATISFIED, 40), (Level.NOT_SATISFIED, 15))
COMMENTS = {
    Level.VERY_SATISFIED: ("Cán bộ hướng dẫn tận tình.", "Nhanh hơn tôi nghĩ, cảm ơn."),
    Level.SATISFIED: ("Đúng hẹn.", ""),
    Level.NOT_SATISFIED: ("Phải đi lại nhiều lần.", "Trả lời chưa rõ ràng."),
}
SHARE_RATED = 0.8  # not everyone rates


def _citizen(citizen_id: int) -> Actor:
    return Actor(ActorKind.CITIZEN, str(citizen_id), "Công dân (dữ liệu mẫu)")


def _rating(rng: random.Random) -> RatingIn:
    level = rng.choices([w[0] for w in WEIGHTS], weights=[w[1] for w in WEIGHTS])[0]
    codes = list(REASONS[level])
    reasons = rng.sample(codes, k=rng.randint(1, min(2, len(codes))))
    comment = rng.choice(COMMENTS[level]) or None
    return RatingIn(level=level, reasons=reasons, comment=comment)


def _give(session: Session, settings: Settings, subject: Subject, actor: Actor) -> bool:
    if service.get_rating(session, subject=subject, settings=settings) is not None:
        return False
    # One generator per subject: whether and how it is rated never depends on the others.
    rng = random.Random(f"766:{subject.kind.value}:{subject.ref}")  # noqa: S311 - demo data
    if rng.random() > SHARE_RATED:
        return False
    service.rate(session, actor=actor, subject=subject, data=_rating(rng), settings=settings)
    # Rated some hours after the result, as people do (never in the future).
    row = session.scalars(
        select(Rating).where(
            Rating.subject_kind == subject.kind.value, Rating.subject_ref == subject.ref
        )
    ).one()
    closed = subject.closed_at or datetime.now(UTC)
    row.rated_at = min(datetime.now(UTC), closed + timedelta(hours=rng.randint(1, 72)))
    session.flush()
    return True


def seed(session: Session, settings: Settings) -> int:
    """Load this domain's demo data (idempotent); return how many rows were added."""
    added = 0
    for code, citizen_id in dossier_stats.returned_dossiers(session):
        actor = _citizen(citizen_id)
        try:
            with session.begin_nested():
                subject = dossier_subject(session, actor=actor, code=code)
                added += _give(session, settings, subject, actor)
        except DomainError as exc:
            log.debug("demo rating of dossier %s skipped: %s", code, exc)
    for public_id, citizen_id in feedback_views.answered_reports_of_citizens(session):
        actor = _citizen(citizen_id)
        try:
            with session.begin_nested():
                subject = report_subject(
                    session, actor=actor, settings=settings, public_id=public_id
                )
                added += _give(session, settings, subject, actor)
        except DomainError as exc:
            log.debug("demo rating of report %s skipped: %s", public_id, exc)
    return added
