"""The catalogue's file format (YAML, one procedure per file) and its API shapes.

A procedure file is validated by :class:`ProcedureFile` before anything is written; the
importer adds the checks that need the database (agencies exist) and the cross-file ones
(unique codes). See docs/domains/catalog.md for the format with an example.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cityhall.core.actors import Role
from cityhall.core.calendar.rules import TimeUnit

PROCEDURE_CODE = r"^\d\.\d{6}$"
AGENCY_CODE = r"^\d{3}\.\d{2}\.\d{2}\.H29$"


class Level(StrEnum):
    """Who is competent: the ward/commune People's Committee, or a city-level body."""

    WARD = "ward"
    CITY = "city"


class Channel(StrEnum):
    ONLINE = "online"
    COUNTER = "counter"
    POST = "post"


class OnlineMode(StrEnum):
    """Decree 224/2026: end-to-end (toàn trình), partial (một phần), or not online."""

    END_TO_END = "end_to_end"
    PARTIAL = "partial"
    NONE = "none"


class DocumentSource(StrEnum):
    """Where the platform can obtain a required document without asking the citizen."""

    NONE = "none"  # the citizen provides it
    POPULATION = "registry:population"
    BUSINESS = "registry:business"
    LAND = "registry:land"
    STORE = "store"  # the citizen's document store (a result issued earlier)


class SupplementClock(StrEnum):
    """What a supplementation request during appraisal does to the time limit."""

    RESTART = "restart"  # Decree 118/2025: counted again from zero once complete
    PAUSE = "pause"  # the clock stops while the citizen supplements


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_In):
    value: Decimal = Field(gt=0, le=365, description="Amount (0.5 = half a working day).")
    unit: TimeUnit


class Fee(_In):
    name: str = Field(min_length=1, max_length=300)
    amount: int = Field(ge=0, description="VND; 0 when exempt.")
    note: str | None = Field(None, max_length=500)


class RequiredDocument(_In):
    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=500)
    required: bool = True
    copies: str = Field("01 bản chính", max_length=200)
    source: DocumentSource = DocumentSource.NONE
    note: str | None = Field(None, max_length=500)


class Step(_In):
    code: str = Field(pattern=r"^[a-z_]{2,32}$")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    unit: str = Field(min_length=1, max_length=200, description="The handling unit's name.")
    share: Decimal = Field(gt=0, le=1, description="Share of the time limit for this step.")


class PartnerAgency(_In):
    agency: str = Field(pattern=AGENCY_CODE)
    task: str = Field(min_length=1, max_length=300, description="What this agency does.")
    share: Decimal = Field(gt=0, le=1, description="Share of the time limit it has.")


class InterAgency(_In):
    """A joined-up procedure: the lead agency receives and decides, the others contribute."""

    lead: str = Field(pattern=AGENCY_CODE)
    partners: list[PartnerAgency] = Field(min_length=1)


class Version(_In):
    valid_from: date
    valid_to: date | None = None
    legal_basis: list[str] = Field(min_length=1)
    time_limit: TimeLimit
    fees: list[Fee] = Field(default_factory=list)
    channels: list[Channel] = Field(min_length=1)
    online_mode: OnlineMode
    partial_reason: str | None = Field(None, max_length=500)
    supplement_clock: SupplementClock = SupplementClock.RESTART
    result: str = Field(min_length=1, max_length=300, description="What the citizen receives.")
    documents: list[RequiredDocument] = Field(min_length=1)
    form_schema: dict[str, Any]
    steps: list[Step] = Field(min_length=2)
    inter_agency: InterAgency | None = None

    @field_validator("form_schema")
    @classmethod
    def _valid_json_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(gốc)"
            raise ValueError(
                f"form_schema is not a valid JSON Schema at {where}: {exc.message}"
            ) from None
        if value.get("type") != "object":
            raise ValueError('form_schema must describe an object ("type": "object")')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Version:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        total = sum((s.share for s in self.steps), Decimal(0))
        if total != Decimal(1):
            raise ValueError(f"the steps' shares add up to {total}, not 1")
        codes = [s.code for s in self.steps]
        if len(set(codes)) != len(codes):
            raise ValueError("two steps have the same code")
        if not any(s.role is Role.APPROVER for s in self.steps):
            raise ValueError("no step is the decision (role approver)")
        if self.steps[0].role is not Role.INTAKE_OFFICER:
            raise ValueError("the first step must be the intake (role intake_officer)")
        docs = [d.code for d in self.documents]
        if len(set(docs)) != len(docs):
            raise ValueError("two documents have the same code")
        if self.online_mode is OnlineMode.PARTIAL and not self.partial_reason:
            raise ValueError("a partial online service must give partial_reason")
        if self.online_mode is not OnlineMode.NONE and Channel.ONLINE not in self.channels:
            raise ValueError("an online service must list the online channel")
        if self.online_mode is OnlineMode.NONE and Channel.ONLINE in self.channels:
            raise ValueError("online_mode none cannot list the online channel")
        return self


class ProcedureFile(_In):
    """One procedure: what does not change between versions, and its dated versions."""

    code: str = Field(pattern=PROCEDURE_CODE, description="National procedure code.")
    name: str = Field(min_length=3, max_length=300)
    field: str = Field(pattern=r"^[a-z_]{2,40}$", description="Field code (fields.yaml).")
    level: Level
    # City-level procedures name their competent agency; ward-level ones are handled by the
    # People's Committee of the ward the applicant chooses (their residence by default).
    agency: str | None = Field(None, pattern=AGENCY_CODE)
    keywords: list[str] = Field(default_factory=list)
    versions: list[Version] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureFile:
        if self.level is Level.CITY and self.agency is None:
            raise ValueError("a city-level procedure must name its agency")
        if self.level is Level.WARD and self.agency is not None:
            raise ValueError("a ward-level procedure is handled by the ward: leave agency out")
        ordered = sorted(self.versions, key=lambda v: v.valid_from)
        for before, after in itertools.pairwise(ordered):
            if before.valid_to is None or before.valid_to >= after.valid_from:
                raise ValueError(
                    f"version from {before.valid_from} overlaps the one from {after.valid_from}"
                )
        return self


class FieldFile(_In):
    code: str = Field(pattern=r"^[a-z_]{2,40}$")
    name: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)


# --- API shapes ----------------------------------------------------------------------------


class ProcedureQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description='Tên thủ tục, có dấu hay không dấu, chấp nhận lỗi gõ nhỏ ("khai sin").',
    )
    field: str | None = Field(None, pattern=r"^[a-z_]{2,40}$", description="Mã lĩnh vực.")
    level: Level | None = Field(None, description="Cấp thực hiện: ward (phường, xã) hoặc city.")
    page: int = Field(1, ge=1, le=10_000, description="Trang (từ 1).")
    page_size: int = Field(20, ge=1, le=100, description="Số thủ tục mỗi trang.")
    lang: str | None = Field(None, max_length=16, description="Ngôn ngữ thông báo lỗi.")


class TimeLimitOut(BaseModel):
    value: float = Field(description="Số lượng (0.5 = nửa ngày).")
    unit: TimeUnit
    text: str = Field(description='Như "1 ngày làm việc".')


class ProcedureOut(BaseModel):
    code: str = Field(description="Mã thủ tục quốc gia, ví dụ 1.001193.")
    name: str
    field: str
    field_name: str
    level: Level
    agency_code: str | None = Field(description="Cơ quan có thẩm quyền (thủ tục cấp thành phố).")
    time_limit: TimeLimitOut
    online_mode: OnlineMode


class VersionRef(BaseModel):
    id: int
    valid_from: date
    valid_to: date | None


class ProcedureDetail(ProcedureOut):
    version: VersionRef = Field(description="Phiên bản đang có hiệu lực.")
    versions: list[VersionRef]
    agency_name: str | None
    legal_basis: list[str]
    fees: list[Fee]
    channels: list[Channel]
    partial_reason: str | None
    supplement_clock: SupplementClock
    result: str
    documents: list[RequiredDocument]
    form_schema: dict[str, Any]
    steps: list[Step]
    inter_agency: InterAgency | None
    keywords: list[str]


class ProcedurePage(BaseModel):
    items: list[ProcedureOut]
    total: int
    page: int
    page_size: int


class FieldOut(BaseModel):
    code: str
    name: str
    name_en: str
    procedures: int


class VersionRow(BaseModel):
    """One stored version of a procedure, for the administrators' list."""

    procedure_code: str
    procedure_name: str
    id: int
    valid_from: date
    valid_to: date | None
    imported_at: datetime
    superseded_at: datetime | None
    suspended_at: datetime | None
