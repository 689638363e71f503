"""Tables of the feedback domain: categories (Open311 services), reports, their events (the
history), followers, Open311 API clients and intake idempotency keys.

The nearby-duplicates search uses a GiST index on ``(category_code, point(long * K, lat))``
for open reports (``btree_gist`` for the category; ``K = cos(10.8°)`` makes one unit of
Euclidean distance about one degree of latitude across the city, see docs/adr/0011), and
orders by the KNN operator ``<->``. The expression lives in :data:`GEO_EXPR`; queries must
use it verbatim for the index to apply.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base
from cityhall.feedback.schemas import AgencyType, Channel, Moderation, State

# The tables our foreign keys point at, registered wherever this module is imported alone
# (the job worker imports the job modules, not cityhall.models).
from cityhall.identity import models as _identity  # noqa: F401
from cityhall.places import models as _places  # noqa: F401

# cos(10.8°): HCMC's middle latitude. point(long * K, lat) is near-isotropic in the city.
LONG_SCALE = 0.98229
GEO_EXPR = f"point(long * {LONG_SCALE}, lat)"
METRES_PER_DEGREE = 111_320.0


def _in(values: Any) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


OPEN_SQL = "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened')"


class CategoryGroup(Base):
    __tablename__ = "feedback_category_groups"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(SmallInteger)


class Category(Base):
    """A kind of problem (an Open311 service) and who answers it, how fast."""

    __tablename__ = "feedback_categories"
    __table_args__ = (
        CheckConstraint(f"agency_type IN ({_in(AgencyType)})", name="agency_type"),
        CheckConstraint("(agency_type = 'city') = (agency_code IS NOT NULL)", name="agency_code"),
        CheckConstraint("answer_days BETWEEN 1 AND 60", name="answer_days"),
        CheckConstraint("duplicate_radius_m BETWEEN 1 AND 5000", name="radius"),
    )

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("feedback_category_groups.code"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSONB)
    agency_type: Mapped[str] = mapped_column(String(16))
    agency_code: Mapped[str | None] = mapped_column(String(13), ForeignKey("agencies.code"))
    answer_days: Mapped[int] = mapped_column(SmallInteger)
    duplicate_radius_m: Mapped[int] = mapped_column(Integer)
    anonymous_allowed: Mapped[bool] = mapped_column(Boolean)
    # Open311 service definition attributes, in order.
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    position: Mapped[int] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Report(Base):
    """One report (phản ánh) from any channel."""

    __tablename__ = "feedback_reports"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(State)})", name="state"),
        CheckConstraint(f"moderation IN ({_in(Moderation)})", name="moderation"),
        CheckConstraint(f"channel IN ({_in(Channel)})", name="channel"),
        CheckConstraint("(lat IS NULL) = (long IS NULL)", name="point"),
        CheckConstraint("lat IS NOT NULL OR address IS NOT NULL", name="location"),
        # Staff inboxes: a unit's reports by state and deadline.
        Index("ix_feedback_reports_agency_state", "agency_code", "state", "due_at"),
        Index(
            "ix_feedback_reports_dispatch",
            "received_at",
            postgresql_where=text("state = 'dispatch'"),
        ),
        Index(
            "ix_feedback_reports_moderation",
            "received_at",
            postgresql_where=text("moderation = 'pending'"),
        ),
        Index(
            "ix_feedback_reports_overdue",
            "due_at",
            postgresql_where=text(f"{OPEN_SQL} AND escalated_at IS NULL"),
        ),
        # Open311 GET requests and the public list: newest first.
        Index("ix_feedback_reports_received", "received_at"),
        Index("ix_feedback_reports_reporter", "reporter_citizen_id", "received_at"),
        Index("ix_feedback_reports_duplicate_of", "duplicate_of_id"),
        # The nearby-duplicates search (KNN on open reports of one category).
        Index(
            "ix_feedback_reports_nearby",
            "category_code",
            text(GEO_EXPR),
            postgresql_using="gist",
            postgresql_where=text(f"{OPEN_SQL} AND lat IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("feedback_categories.code"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    moderation: Mapped[str] = mapped_column(String(16), default=Moderation.PENDING.value)

    description: Mapped[str] = mapped_column(Text)  # as sent (never public)
    public_description: Mapped[str | None] = mapped_column(Text)  # moderated
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lat: Mapped[float | None] = mapped_column(Double)
    long: Mapped[float | None] = mapped_column(Double)
    address: Mapped[str | None] = mapped_column(String(300))
    address_id: Mapped[str | None] = mapped_column(String(64))
    photos: Mapped[list[str]] = mapped_column(JSONB)  # sha256 of the reporter's photos
    media_url: Mapped[str | None] = mapped_column(String(1000))

    # Routing
    unit_code: Mapped[str | None] = mapped_column(String(5))  # the ward found
    agency_code: Mapped[str | None] = mapped_column(String(13), ForeignKey("agencies.code"))
    routing_note: Mapped[str | None] = mapped_column(String(300))

    # The reporter (never public)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    reporter_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    # The reporter's personal identification number: the audit log's subject of each read.
    reporter_pin: Mapped[str | None] = mapped_column(String(12))
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    entered_by: Mapped[str] = mapped_column(String(80))  # actor reference (operator, client)
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_api_clients.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))

    # Handling
    answer: Mapped[str | None] = mapped_column(Text)  # the reply, or the reason of a refusal
    result_photos: Mapped[list[str]] = mapped_column(JSONB)
    committed_date: Mapped[date | None] = mapped_column(Date)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_reports.id"))
    reopened_count: Mapped[int] = mapped_column(SmallInteger, default=0)

    received_at: Mapped[datetime]
    forwarded_at: Mapped[datetime | None]  # reached the responsible unit (or the queue)
    due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]  # answered (resolved or rejected)
    escalated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)


class ReportEvent(Base):
    """One change of a report. ``note`` is public when ``public_note`` (a reply, a reason of
    refusal, a progress report); internal otherwise (a reassignment's reason)."""

    __tablename__ = "feedback_events"
    __table_args__ = (
        UniqueConstraint("report_id", "seq", name="uq_feedback_events_seq"),
        Index("ix_feedback_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_reports.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(200))
    agency_code: Mapped[str | None] = mapped_column(String(13))  # the unit after the change
    note: Mapped[str | None] = mapped_column(Text)
    public_note: Mapped[bool] = mapped_column(Boolean, default=False)
    committed_date: Mapped[date | None] = mapped_column(Date)
    photos: Mapped[list[str]] = mapped_column(JSONB, default=list)


class Follower(Base):
    """Someone told of a report's changes besides its reporter: a citizen who chose to
    follow it, or the reporter of a duplicate merged into it."""

    __tablename__ = "feedback_followers"
    __table_args__ = (
        CheckConstraint(
            "citizen_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL", name="who"
        ),
        CheckConstraint("via IN ('follow', 'merge')", name="via"),
        UniqueConstraint("report_id", "who", name="uq_feedback_followers_who"),
        Index("ix_feedback_followers_citizen", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_reports.id", ondelete="CASCADE"))
    # "citizen:<id>", "email:<address>" or "phone:<number>": one row per person and report.
    who: Mapped[str] = mapped_column(String(300))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(8))
    from_report_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiClient(Base):
    """An Open311 client allowed to POST; its key is stored as SHA-256 only."""

    __tablename__ = "feedback_api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(300))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IntakeKey(Base):
    """A submission already received: a retry with the same key returns ``report_id``."""

    __tablename__ = "feedback_intake_keys"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_reports.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
