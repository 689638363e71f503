"""Tables of the procedure catalogue: fields, procedures and their dated versions.

A version row is never changed once written: editing a version in its file and importing
again inserts a new row and marks the old one superseded, so a dossier that points at a
version keeps exactly the rules it was received under.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base


class ProcedureField(Base):
    __tablename__ = "procedure_fields"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (
        CheckConstraint("level IN ('ward', 'city')", name="level"),
        CheckConstraint(r"code ~ '^\d\.\d{6}$'", name="code"),
        Index("ix_procedures_field_code", "field_code"),
        Index(
            "ix_procedures_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    field_code: Mapped[str] = mapped_column(String(40), ForeignKey("procedure_fields.code"))
    level: Mapped[str] = mapped_column(String(8))
    # City-level procedures: the competent agency. Ward-level: NULL (the chosen ward's).
    agency_code: Mapped[str | None] = mapped_column(String(13), ForeignKey("agencies.code"))
    keywords: Mapped[str] = mapped_column(Text, default="")  # joined with " | "
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed("lower(f_unaccent((((name)::text || ' | '::text) || keywords)))", persisted=True),
    )
    source_file: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProcedureVersion(Base):
    __tablename__ = "procedure_versions"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
        CheckConstraint(
            "time_limit_unit IN ('working_days', 'working_hours', 'calendar_days')",
            name="time_limit_unit",
        ),
        CheckConstraint("online_mode IN ('end_to_end', 'partial', 'none')", name="online_mode"),
        CheckConstraint("supplement_clock IN ('restart', 'pause')", name="supplement_clock"),
        # One current row per (procedure, start date); superseded rows are kept for dossiers.
        Index(
            "uq_procedure_versions_current",
            "procedure_code",
            "valid_from",
            unique=True,
            postgresql_where="superseded_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(8), ForeignKey("procedures.code"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    time_limit_value: Mapped[Any] = mapped_column(Numeric(6, 2))
    time_limit_unit: Mapped[str] = mapped_column(String(16))
    online_mode: Mapped[str] = mapped_column(String(16))
    supplement_clock: Mapped[str] = mapped_column(String(8))
    # The whole version as in its file (legal basis, fees, documents, form schema, steps…).
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(server_default=func.now())
    superseded_at: Mapped[datetime | None]
    # Set by an administrator to take a version out of service (e.g. a legal text struck
    # down) without deleting it; cleared to put it back. Dossiers received under it keep it.
    suspended_at: Mapped[datetime | None]
