"""Officials, citizens, businesses, sessions and login attempts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityhall.db import Base


class Official(Base):
    __tablename__ = "officials"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: logins are case-insensitive.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last accepted TOTP time step: a code is accepted once (no replay within its window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_login_at: Mapped[datetime | None]

    roles: Mapped[list[OfficialRole]] = relationship(
        back_populates="official", lazy="raise", cascade="all, delete-orphan"
    )


class OfficialRole(Base):
    """A role held in one agency (and, for ward-level work, one administrative unit)."""

    __tablename__ = "official_roles"
    __table_args__ = (
        UniqueConstraint("official_id", "role", "agency_code", name="uq_official_roles_grant"),
        Index("ix_official_roles_agency", "agency_code", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("officials.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    agency_code: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(16))

    official: Mapped[Official] = relationship(back_populates="roles", lazy="raise")


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (CheckConstraint("pin ~ '^[0-9]{12}$'", name="pin_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Personal identification number (số định danh cá nhân), 12 digits.
    pin: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Business(Base):
    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint("tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'", name="tax_code_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    representative_pin: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuthSession(Base):
    """A browser session or an API token. Only the token's SHA-256 is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint(
            "(official_id IS NOT NULL)::int + (citizen_id IS NOT NULL)::int = 1",
            name="one_principal",
        ),
        Index("ix_auth_sessions_official", "official_id", "revoked_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "browser" or "api"
    official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id", ondelete="CASCADE"))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(45))


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "attempted_at"),
        Index("ix_login_attempts_ip", "ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CitizenAddress(Base):
    """A citizen's current address as the national e-ID last asserted it at login (never
    typed by the citizen): the street part and the current ward or commune."""

    __tablename__ = "citizen_addresses"
    __table_args__ = (CheckConstraint("unit_code ~ '^[0-9]{5}$'", name="unit_code_format"),)

    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    street: Mapped[str] = mapped_column(String(300))
    unit_code: Mapped[str] = mapped_column(String(5))
    # Where it came from, e.g. "vneid-oidc" (the login method).
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
