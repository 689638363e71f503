"""Tables of the one-stop lifecycle: dossiers, their events (the tracking sheet), parts,
pauses of the clock, inter-agency tasks, code counters and idempotency keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
from cityhall.dossiers.lifecycle import State

_STATES = ", ".join(f"'{s.value}'" for s in State)
_OPEN = "state NOT IN ('not_accepted', 'stopped', 'returned')"


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint("national_status BETWEEN 1 AND 10", name="national_status"),
        CheckConstraint("channel IN ('online', 'counter', 'post')", name="channel"),
        CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'refused')", name="outcome"),
        # The officers' inboxes: open dossiers of an agency by deadline.
        Index(
            "ix_dossiers_competent_due",
            "competent_agency_code",
            "due_at",
            postgresql_where=text(_OPEN),
        ),
        Index(
            "ix_dossiers_receiving_due",
            "receiving_agency_code",
            "due_at",
            postgresql_where=text(_OPEN),
        ),
        Index("ix_dossiers_competent_submitted", "competent_agency_code", "submitted_at"),
        Index("ix_dossiers_applicant", "applicant_citizen_id", "submitted_at"),
        Index("ix_dossiers_applicant_pin", "applicant_pin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    procedure_code: Mapped[str] = mapped_column(String(8))
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(24))
    national_status: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[str | None] = mapped_column(String(8))
    # The state a withdrawal request interrupted (to resume if it is cancelled).
    previous_state: Mapped[str | None] = mapped_column(String(24))

    applicant_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    applicant_pin: Mapped[str] = mapped_column(String(12))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONB)  # as submitted: contact, address
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)

    unit_code: Mapped[str] = mapped_column(String(5))  # the ward handling it, "79" for the city
    receiving_agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("agencies.code"))
    competent_agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("agencies.code"))
    submitted_by: Mapped[str] = mapped_column(String(64))  # actor reference
    handler_official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    current_step: Mapped[int] = mapped_column(SmallInteger, default=0)
    step_due_at: Mapped[datetime | None]

    submitted_at: Mapped[datetime]
    received_at: Mapped[datetime]  # the clock's start (reset when the clock restarts)
    due_at: Mapped[datetime]  # the appointment date (Form 01), moved once by an apology
    original_due_at: Mapped[datetime | None]
    apologized_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    result_note: Mapped[str | None] = mapped_column(Text)
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DossierEvent(Base):
    """One change of a dossier: the tracking sheet (Form 06) is the handovers among these."""

    __tablename__ = "dossier_events"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_dossier_events_seq"),
        CheckConstraint(
            "timeliness IS NULL OR timeliness IN ('early', 'on_time', 'late')",
            name="timeliness",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(200))
    from_agency_code: Mapped[str | None] = mapped_column(String(13))
    from_unit: Mapped[str | None] = mapped_column(String(200))  # the step's handling unit
    to_agency_code: Mapped[str | None] = mapped_column(String(13))
    to_unit: Mapped[str | None] = mapped_column(String(200))
    to_official_id: Mapped[int | None] = mapped_column(Integer)
    # The deadline of the work being handed over, and how the handover met it.
    due_at: Mapped[datetime | None]
    timeliness: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class DossierDocument(Base):
    """A part of the dossier: an upload, a scan made at the desk, or a reused document."""

    __tablename__ = "dossier_documents"
    __table_args__ = (
        Index("ix_dossier_documents_dossier", "dossier_id"),
        CheckConstraint("source IN ('upload', 'scan', 'registry', 'store')", name="source"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    document_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))
    blob_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    pages: Mapped[int | None] = mapped_column(SmallInteger)
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())
    added_by: Mapped[str] = mapped_column(String(64))
    event_seq: Mapped[int] = mapped_column(Integer)


class DossierPause(Base):
    """Every stop of the clock: a supplementation request (restart or pause) or a fee."""

    __tablename__ = "dossier_pauses"
    __table_args__ = (
        Index("ix_dossier_pauses_dossier", "dossier_id"),
        CheckConstraint("mode IN ('restart', 'pause')", name="mode"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(24))  # supplement, payment
    mode: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    due_before: Mapped[datetime]
    due_after: Mapped[datetime | None]


class DossierTask(Base):
    """An inter-agency dossier's part sent to a partner agency, with its own deadline."""

    __tablename__ = "dossier_tasks"
    __table_args__ = (
        UniqueConstraint("dossier_id", "agency_code", name="uq_dossier_tasks_agency"),
        Index("ix_dossier_tasks_agency", "agency_code", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("agencies.code"))
    task: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime]
    due_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    timeliness: Mapped[str | None] = mapped_column(String(8))


class DossierCodeCounter(Base):
    """The last sequence given per agency per day: codes are never reused."""

    __tablename__ = "dossier_code_counters"

    agency_code: Mapped[str] = mapped_column(String(13), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class IdempotencyKey(Base):
    """A submission's ``Idempotency-Key``: a retry returns the dossier it created."""

    __tablename__ = "dossier_idempotency_keys"

    actor_ref: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DossierDraft(Base):
    """A citizen's application in progress: what they typed and uploaded, kept until they
    submit it (nothing lost when a session expires or a phone goes to sleep)."""

    __tablename__ = "dossier_drafts"
    __table_args__ = (UniqueConstraint("citizen_id", "procedure_code", name="uq_dossier_drafts"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    procedure_code: Mapped[str] = mapped_column(String(8))
    form: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB)  # phone, email, street, units
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{code, sha256, filename}]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DossierRegistryLookup(Base):
    """A registry consulted for a dossier through the exchange: which, why, on what basis.

    The message id points into the exchange's message log, where the signed request and
    answer are kept; the dossier itself keeps only what was used."""

    __tablename__ = "dossier_registry_lookups"
    __table_args__ = (
        Index("ix_dossier_registry_lookups_dossier", "dossier_id"),
        CheckConstraint("basis IN ('law', 'consent')", name="basis"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # registry: population, business, land
    service: Mapped[str] = mapped_column(String(300))  # the exchange service's full id
    purpose: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(8))
    basis_detail: Mapped[str] = mapped_column(String(500))  # the legal text or consent id
    message_id: Mapped[str] = mapped_column(String(64))
    consulted_at: Mapped[datetime]
    used_for: Mapped[list[str]] = mapped_column(JSONB, default=list)  # fields, documents
