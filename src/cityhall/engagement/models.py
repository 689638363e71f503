"""Tables of the engagement domain: satisfaction ratings of resolved feedback reports and of
returned dossiers (one per report or dossier), from which the public rankings are computed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base


class Rating(Base):
    """A citizen's rating of one resolved report or one returned dossier.

    The ward (``unit_code``) and the agency are copied from the subject when it is rated, so
    the rankings need no join into the other domains' tables, and a later reassignment does
    not move a rating already given."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_ref", name="uq_ratings_subject"),
        CheckConstraint("subject_kind IN ('report', 'dossier')", name="subject_kind"),
        CheckConstraint("level IN ('very_satisfied', 'satisfied', 'not_satisfied')", name="level"),
        CheckConstraint("rater_kind IN ('citizen', 'anonymous')", name="rater_kind"),
        CheckConstraint(
            "rater_kind = 'anonymous' OR rater_citizen_id IS NOT NULL", name="rater_citizen"
        ),
        # The rankings: ratings of a period grouped by ward or by agency, answered from the
        # index alone (no heap visits for the columns grouped and counted).
        Index(
            "ix_ratings_rated_at",
            "rated_at",
            postgresql_include=["unit_code", "agency_code", "level"],
        ),
        Index("ix_ratings_unit_rated_at", "unit_code", "rated_at"),
        Index("ix_ratings_agency_rated_at", "agency_code", "rated_at"),
        Index("ix_ratings_rater_citizen", "rater_citizen_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    # The report's public id or the dossier's code.
    subject_ref: Mapped[str] = mapped_column(String(60))
    unit_code: Mapped[str | None] = mapped_column(String(5))
    agency_code: Mapped[str | None] = mapped_column(String(13))
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    rater_kind: Mapped[str] = mapped_column(String(10))
    rater_citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL")
    )
    # When the subject was resolved (report) or its result returned (dossier).
    subject_closed_at: Mapped[datetime | None]
    # When the rating was first given: the period it counts in.
    rated_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]
    changes: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
