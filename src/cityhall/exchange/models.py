"""Tables of the data-sharing platform.

Members (agencies) run subsystems (information systems); a provider subsystem publishes
services; a client subsystem is granted access to a service, optionally for some purposes
only. Every exchange through the gateway is written twice (request, response) to an
append-only, hash-chained message log. Citizens' consents per purpose live here too: the
gateway's callers check them before fetching what the law alone does not allow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cityhall.db import Base

CLASSIFICATIONS = ("public", "internal", "personal", "sensitive")


class ExchangeMember(Base):
    """An agency taking part in the exchange, identified by its code (``VN/GOV/<code>``)."""

    __tablename__ = "exchange_members"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ExchangeSubsystem(Base):
    """An information system of a member: a client (has a key pair) and/or a provider."""

    __tablename__ = "exchange_subsystems"
    __table_args__ = (UniqueConstraint("member_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_code: Mapped[str] = mapped_column(ForeignKey("exchange_members.code"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    # The client's public key (a JWK, OKP/Ed25519); None for a provider-only subsystem.
    public_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Where the provider's services answer (the gateway forwards there); None for clients.
    base_url: Mapped[str | None] = mapped_column(String(500))
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=6000)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    disabled_at: Mapped[datetime | None]

    @property
    def full_id(self) -> str:
        return f"VN/GOV/{self.member_code}/{self.code}"


class ExchangeService(Base):
    __tablename__ = "exchange_services"
    __table_args__ = (
        UniqueConstraint("subsystem_id", "code"),
        CheckConstraint(
            "classification IN ('public', 'internal', 'personal', 'sensitive')",
            name="classification",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subsystem_id: Mapped[int] = mapped_column(ForeignKey("exchange_subsystems.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(300))  # the unit answerable for the data
    classification: Mapped[str] = mapped_column(String(16))
    # Allowed purposes: [{"code": ..., "name": ..., "legal_basis": ...}].
    purposes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # Path on the provider's base URL that the service's paths are relative to.
    upstream_path: Mapped[str] = mapped_column(String(300), default="")
    openapi: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ExchangeRight(Base):
    """Client subsystem X may call service Y (for these purposes only, when listed)."""

    __tablename__ = "exchange_rights"
    __table_args__ = (
        Index(
            "uq_exchange_rights_active",
            "client_id",
            "service_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("exchange_subsystems.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("exchange_services.id"))
    purposes: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))  # None: any allowed
    granted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    granted_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class ExchangeConsent(Base):
    """A person's consent to one purpose (Law 91/2025: per purpose, recorded, withdrawable)."""

    __tablename__ = "exchange_consents"
    __table_args__ = (
        Index(
            "uq_exchange_consents_active",
            "subject_pin",
            "purpose",
            unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_pin: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))  # "portal", "counter"
    given_at: Mapped[datetime] = mapped_column(server_default=func.now())
    withdrawn_at: Mapped[datetime | None]


class ExchangeLogHead(Base):
    __tablename__ = "exchange_log_heads"

    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ExchangeLogEntry(Base):
    """One direction of one exchange, linked into its shard's SHA-256 chain."""

    __tablename__ = "exchange_log"
    __table_args__ = (
        UniqueConstraint("shard", "seq"),
        CheckConstraint("direction IN ('request', 'response')", name="direction"),
        Index("ix_exchange_log_message", "client", "message_id"),
        Index("ix_exchange_log_subject", "subject_pin", "logged_at"),
        Index("ix_exchange_log_service_time", "service", "logged_at"),
        Index("ix_exchange_log_logged_at", "logged_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    logged_at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(200))  # VN/GOV/<member>/<subsystem>
    service: Mapped[str] = mapped_column(String(300))  # VN/GOV/<member>/<subsystem>/<service>
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1000))
    purpose: Mapped[str | None] = mapped_column(String(64))
    subject_pin: Mapped[str | None] = mapped_column(String(12))  # whose data
    acting: Mapped[str | None] = mapped_column(String(200))  # the official or citizen acting
    status: Mapped[int | None] = mapped_column(SmallInteger)  # response only
    error: Mapped[str | None] = mapped_column(String(64))  # the gateway's refusal code
    latency_ms: Mapped[float | None]  # response only: gateway in to gateway out
    body_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)  # the JWS: the client's, or the gateway's
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ExchangeReplayGuard(Base):
    """Message ids seen within the freshness window (older ones are refused as stale)."""

    __tablename__ = "exchange_replay_guard"
    __table_args__ = (Index("ix_exchange_replay_guard_seen", "seen_at"),)

    client: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ExchangeRateWindow(Base):
    """Calls of a client in one minute (the rate limit), shared by every gateway process."""

    __tablename__ = "exchange_rate_windows"

    client_id: Mapped[int] = mapped_column(ForeignKey("exchange_subsystems.id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
