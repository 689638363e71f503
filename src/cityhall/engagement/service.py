"""The write path of ratings: one rating per report or dossier, by its reporter or applicant,
changeable for ``rating_change_days`` after it is first given; every change audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.core import audit
from cityhall.core.actors import Actor
from cityhall.core.i18n import N_
from cityhall.engagement.models import Rating
from cityhall.engagement.schemas import (
    LEVEL_LABELS,
    REASONS,
    Level,
    RatingIn,
    RatingOut,
    SubjectKind,
)
from cityhall.engagement.subjects import Subject, dossier_subject, report_subject
from cityhall.errors import Conflict, FieldError, Invalid, NotFound


@dataclass(frozen=True)
class Rated:
    rating: RatingOut
    created: bool  # False: an existing rating was changed


def _now() -> datetime:
    return datetime.now(UTC)


def changeable_until(rating: Rating, settings: Settings) -> datetime | None:
    if settings.rating_change_days <= 0:
        return None
    return rating.rated_at + timedelta(days=settings.rating_change_days)


def rating_out(rating: Rating, settings: Settings, *, now: datetime | None = None) -> RatingOut:
    level = Level(rating.level)
    labels = REASONS[level]
    until = changeable_until(rating, settings)
    return RatingOut(
        subject_kind=SubjectKind(rating.subject_kind),
        subject_ref=rating.subject_ref,
        level=level,
        level_label=LEVEL_LABELS[level],
        reasons=list(rating.reasons),
        reason_labels=[labels[r] for r in rating.reasons if r in labels],
        comment=rating.comment,
        rated_at=rating.rated_at,
        changed_at=rating.changed_at,
        changeable_until=until if until is not None and until > (now or _now()) else None,
    )


def validate(data: RatingIn) -> None:
    """Reasons must be the chosen level's; "not satisfied" must say why (a reason or a
    comment), so the unit learns what went wrong."""
    allowed = REASONS[data.level]
    unknown = [r for r in data.reasons if r not in allowed]
    errors = [
        FieldError(
            "reasons",
            N_("Lý do không thuộc mức đánh giá đã chọn: {codes}."),
            {"codes": ", ".join(unknown)},
        )
    ]
    if unknown:
        raise Invalid(errors=errors)
    if data.level is Level.NOT_SATISFIED and not data.reasons and not data.comment:
        raise Invalid(
            errors=[
                FieldError("reasons", N_("Vui lòng chọn ít nhất một lý do hoặc ghi góp ý của bạn."))
            ]
        )


def _existing(session: Session, subject: Subject, *, lock: bool = False) -> Rating | None:
    stmt = select(Rating).where(
        Rating.subject_kind == subject.kind.value, Rating.subject_ref == subject.ref
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def _audit(session: Session, actor: Actor, action: str, rating: Rating) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="rating",
        object_id=f"{rating.subject_kind}:{rating.subject_ref}",
        data={"level": rating.level, "reasons": list(rating.reasons)},
    )


def rate(
    session: Session, *, actor: Actor, subject: Subject, data: RatingIn, settings: Settings
) -> Rated:
    """Give (or, within the window, change) the rating of ``subject``, which the caller has
    resolved through ``subjects`` (so the asker is its reporter or applicant)."""
    validate(data)
    now = _now()
    rating = _existing(session, subject, lock=True)
    if rating is not None:
        until = changeable_until(rating, settings)
        if until is None or now >= until:
            raise Conflict(
                N_("Bạn đã đánh giá vào {at}; đánh giá đã được ghi nhận và không sửa được nữa."),
                at=rating.rated_at.strftime("%d/%m/%Y"),
            )
        rating.level = data.level.value
        rating.reasons = list(data.reasons)
        rating.comment = data.comment
        rating.changed_at = now
        rating.changes += 1
        session.flush()
        _audit(session, actor, "rating.change", rating)
        return Rated(rating_out(rating, settings, now=now), created=False)
    rating = Rating(
        subject_kind=subject.kind.value,
        subject_ref=subject.ref,
        unit_code=subject.unit_code,
        agency_code=subject.agency_code,
        level=data.level.value,
        reasons=list(data.reasons),
        comment=data.comment,
        rater_kind=subject.rater_kind,
        rater_citizen_id=subject.rater_citizen_id,
        subject_closed_at=subject.closed_at,
        rated_at=now,
        changes=0,
    )
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        # Two first ratings at once (two tabs): the other one won.
        raise Conflict(N_("Đánh giá vừa được ghi nhận. Vui lòng tải lại trang.")) from None
    _audit(session, actor, "rating.create", rating)
    return Rated(rating_out(rating, settings, now=now), created=True)


def rate_dossier(
    session: Session, *, actor: Actor, code: str, data: RatingIn, settings: Settings
) -> Rated:
    """The applicant rates their dossier once its result has been returned."""
    subject = dossier_subject(session, actor=actor, code=code)
    return rate(session, actor=actor, subject=subject, data=data, settings=settings)


def rate_report(
    session: Session,
    *,
    actor: Actor,
    data: RatingIn,
    settings: Settings,
    public_id: str | None = None,
    token: str | None = None,
) -> Rated:
    """The reporter rates their answered report: logged in (``public_id``) or, anonymous,
    through the tracking ``token``."""
    subject = report_subject(
        session, actor=actor, settings=settings, public_id=public_id, token=token
    )
    return rate(session, actor=actor, subject=subject, data=data, settings=settings)


def get_rating(session: Session, *, subject: Subject, settings: Settings) -> RatingOut | None:
    """The rating of ``subject`` (already resolved for its rater), or None."""
    rating = _existing(session, subject)
    return rating_out(rating, settings) if rating is not None else None


def require_rating(session: Session, *, subject: Subject, settings: Settings) -> RatingOut:
    found = get_rating(session, subject=subject, settings=settings)
    if found is None:
        raise NotFound(N_("Chưa có đánh giá."))
    return found
