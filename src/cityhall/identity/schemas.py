from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from cityhall.core.actors import Role


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    totp: str | None = Field(None, pattern=r"^[0-9]{6}$", description="6-digit TOTP code")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_at: datetime
    session_id: str


class RoleGrantIn(Input):
    role: Role
    agency_code: str = Field(min_length=1, max_length=32)
    unit_code: str | None = Field(None, max_length=16)


class RoleGrantOut(BaseModel):
    role: Role
    agency_code: str
    unit_code: str | None


class OfficialCreate(Input):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=200)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=20)
    roles: list[RoleGrantIn] = Field(min_length=1)


class OfficialOut(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    is_active: bool
    totp_enabled: bool
    roles: list[RoleGrantOut]


class SessionOut(BaseModel):
    id: str
    kind: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    user_agent: str | None
    ip: str | None
    current: bool = False


class TotpSetupOut(BaseModel):
    secret: str
    provisioning_uri: str


class TotpConfirm(Input):
    code: str = Field(pattern=r"^[0-9]{6}$")


class CitizenOut(BaseModel):
    pin: str
    full_name: str
    birth_date: date | None
    phone: str | None
    email: str | None


class BusinessOut(BaseModel):
    tax_code: str
    name: str
    representative_pin: str | None
