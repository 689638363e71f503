"""Inputs and outputs of the data-sharing platform."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityhall.core.localtime import LocalDateTime
from cityhall.places.schemas import Page, PageQuery

MEMBER_CODE = r"^[A-Za-z0-9.\-]{2,32}$"
SUBSYSTEM_CODE = r"^[A-Za-z0-9_\-]{2,64}$"
SERVICE_CODE = r"^[a-z0-9][a-z0-9\-]{1,63}$"
PURPOSE_CODE = r"^[a-z][a-z0-9_]{1,63}$"


class Classification(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Purpose(_In):
    code: str = Field(pattern=PURPOSE_CODE)
    name: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(
        "", max_length=500, description="The legal text that allows this use, if the law does."
    )


class MemberIn(_In):
    code: str = Field(pattern=MEMBER_CODE, description="Mã cơ quan (thành viên).")
    name: str = Field(min_length=2, max_length=300)


class SubsystemIn(_In):
    member_code: str = Field(pattern=MEMBER_CODE)
    code: str = Field(pattern=SUBSYSTEM_CODE)
    name: str = Field(min_length=2, max_length=300)
    public_jwk: dict[str, Any] | None = Field(
        None, description="Khóa công khai Ed25519 (JWK, kty OKP) nếu hệ thống là bên gọi."
    )
    base_url: str | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://[^\s]+$",
        description="Địa chỉ gốc nơi hệ thống cung cấp dịch vụ (nếu là bên cung cấp).",
    )
    rate_per_minute: int = Field(6000, ge=1, le=1_000_000)

    @field_validator("public_jwk")
    @classmethod
    def _ed25519(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value.get("kty") != "OKP" or value.get("crv") != "Ed25519" or "x" not in value:
            raise ValueError("khóa công khai phải là JWK Ed25519 (kty OKP, crv Ed25519, x)")
        if "d" in value:
            raise ValueError("không gửi khóa bí mật (d) lên nền tảng")
        return {"kty": "OKP", "crv": "Ed25519", "x": str(value["x"])}


class ServiceIn(_In):
    member_code: str = Field(pattern=MEMBER_CODE)
    subsystem_code: str = Field(pattern=SUBSYSTEM_CODE)
    code: str = Field(pattern=SERVICE_CODE)
    name: str = Field(min_length=2, max_length=300)
    description: str = Field("", max_length=4000)
    owner: str = Field(min_length=2, max_length=300)
    classification: Classification
    purposes: list[Purpose] = Field(min_length=1, max_length=20)
    upstream_path: str = Field("", max_length=300, pattern=r"^[A-Za-z0-9_\-./]*$")
    openapi: dict[str, Any] = Field(description="Mô tả OpenAPI 3 của dịch vụ.")

    @field_validator("openapi")
    @classmethod
    def _openapi(cls, value: dict[str, Any]) -> dict[str, Any]:
        version = str(value.get("openapi", ""))
        if not version.startswith("3.") or not isinstance(value.get("paths"), dict):
            raise ValueError("cần một tài liệu OpenAPI 3 có 'openapi' và 'paths'")
        if not isinstance(value.get("info"), dict):
            raise ValueError("tài liệu OpenAPI thiếu 'info'")
        return value


class RightIn(_In):
    client: str = Field(
        pattern=r"^VN/GOV/[A-Za-z0-9.\-]{2,32}/[A-Za-z0-9_\-]{2,64}$",
        description="Hệ thống được cấp quyền: VN/GOV/<thành viên>/<hệ thống>.",
    )
    service: str = Field(
        pattern=r"^VN/GOV/[A-Za-z0-9.\-]{2,32}/[A-Za-z0-9_\-]{2,64}/[a-z0-9\-]{2,64}$",
        description="Dịch vụ: VN/GOV/<thành viên>/<hệ thống>/<dịch vụ>.",
    )
    purposes: list[str] | None = Field(
        None, max_length=20, description="Chỉ các mục đích này (để trống: mọi mục đích)."
    )


class ConsentIn(_In):
    purpose: str = Field(pattern=PURPOSE_CODE)


class ServiceQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="Tìm theo tên, mô tả, cơ quan.")
    classification: Classification | None = None


class PurposeOut(_Out):
    code: str
    name: str
    legal_basis: str = ""


class ServiceOut(_Out):
    id: str = Field(description="VN/GOV/<thành viên>/<hệ thống>/<dịch vụ>.")
    code: str
    name: str
    description: str
    owner: str
    member: str
    member_name: str
    subsystem: str
    classification: Classification
    purposes: list[PurposeOut]
    openapi_url: str
    updated_at: LocalDateTime


class ServiceDetail(ServiceOut):
    openapi: dict[str, Any]
    paths: list[str]


class RightOut(_Out):
    id: int
    client: str
    service: str
    purposes: list[str] | None
    granted_at: LocalDateTime
    granted_by: str
    revoked_at: LocalDateTime | None


class ConsentOut(_Out):
    id: int
    purpose: str
    text_version: str
    method: str
    given_at: LocalDateTime
    withdrawn_at: LocalDateTime | None


class StatsRow(_Out):
    service: str
    client: str
    calls: int
    errors: int
    refused: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class AccessOut(_Out):
    at: LocalDateTime
    who: str
    agency: str
    channel: str  # "exchange" or "back_office"
    what: str  # a message id when what_params is not empty (translated by the page)
    what_params: dict[str, str] = {}
    purpose: str | None


__all__ = ["Page", "datetime"]
