"""Pydantic shapes of the dossier API: submissions and actions in, dossiers out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityhall.core.localtime import LocalDateTime
from cityhall.core.notify.channels import valid_email
from cityhall.dossiers.lifecycle import Action, State


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_In):
    street: str = Field(min_length=1, max_length=300, description="Số nhà, đường, khu phố.")
    unit_code: str = Field(
        pattern=r"^\d{5}$", description="Mã phường, xã, đặc khu hiện hành (5 chữ số)."
    )


class ApplicantIn(_In):
    id_number: str = Field(
        min_length=12, max_length=12, description="Số định danh cá nhân (12 chữ số)."
    )
    full_name: str = Field(min_length=2, max_length=200)
    phone: str | None = Field(None, pattern=r"^(\+84|0)\d{9,10}$", description="Số điện thoại.")
    email: str | None = Field(None, max_length=254, description="Thư điện tử.")
    address: AddressIn

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not valid_email(value):
            raise ValueError("Địa chỉ thư điện tử không hợp lệ.")
        return value


class DocumentIn(_In):
    """A part of the dossier: a file already uploaded to /api/v1/blobs (by its SHA-256)."""

    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$", description="Mã thành phần hồ sơ.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 của tệp đã tải lên.")
    pages: int | None = Field(None, ge=1, le=10_000, description="Số trang (bản quét).")


class DossierSubmit(_In):
    procedure_code: str = Field(pattern=r"^\d\.\d{6}$", description="Mã thủ tục.")
    channel: Literal["online", "counter", "post"]
    applicant: ApplicantIn
    form: dict[str, Any] = Field(description="Tờ khai theo form_schema của thủ tục.")
    unit_code: str | None = Field(
        None,
        pattern=r"^\d{5}$",
        description="Phường, xã giải quyết (thủ tục cấp xã); mặc định: nơi cư trú.",
    )
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)


class ActionIn(_In):
    """The body of ``POST /dossiers/{code}/actions/{action}``; each action reads its fields."""

    note: str | None = Field(None, max_length=4000, description="Ghi chú, lý do.")
    reasons: list[str] = Field(
        default_factory=list, max_length=50, description="Lý do từ chối, từng ý."
    )
    missing: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Mọi thành phần còn thiếu (mã thành phần hoặc mô tả), nêu một lần.",
    )
    handler_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Cán bộ được phân công.")
    new_due_at: datetime | None = Field(None, description="Ngày hẹn mới (xin lỗi).")
    amount: int | None = Field(None, ge=1, le=10**12, description="Số tiền (đồng).")
    agency_code: str | None = Field(
        None, pattern=r"^\d{3}\.\d{2}\.\d{2}\.H29$", description="Cơ quan liên thông trả lời."
    )
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)


class AgencyRef(BaseModel):
    code: str
    name: str


class StepOut(BaseModel):
    index: int
    code: str
    name: str
    unit: str
    role: str


class DocumentOut(BaseModel):
    code: str
    name: str
    source: str
    sha256: str | None
    pages: int | None
    added_at: LocalDateTime


class TaskOut(BaseModel):
    agency: AgencyRef
    task: str
    sent_at: LocalDateTime
    due_at: LocalDateTime
    answered_at: LocalDateTime | None
    answer: str | None
    timeliness: str | None


class PauseOut(BaseModel):
    reason: str
    mode: str
    started_at: LocalDateTime
    ended_at: LocalDateTime | None
    due_before: LocalDateTime
    due_after: LocalDateTime | None


class DossierOut(BaseModel):
    code: str
    procedure_code: str
    procedure_name: str
    procedure_version_id: int
    channel: str
    status: State
    status_label: str
    national_status: int = Field(description="Mã trạng thái đồng bộ Cổng DVC quốc gia (1-10).")
    outcome: str | None
    applicant: dict[str, Any]
    form: dict[str, Any]
    unit_code: str
    receiving_agency: AgencyRef
    competent_agency: AgencyRef
    handler_id: int | None
    current_step: StepOut | None
    step_due_at: LocalDateTime | None
    submitted_at: LocalDateTime
    received_at: LocalDateTime
    due_at: LocalDateTime
    original_due_at: LocalDateTime | None
    apologized_at: LocalDateTime | None
    resolved_at: LocalDateTime | None
    returned_at: LocalDateTime | None
    overdue: bool
    fee_amount: int | None
    result_note: str | None
    documents: list[DocumentOut]
    tasks: list[TaskOut]
    pauses: list[PauseOut]
    allowed_actions: list[Action] = Field(description="Thao tác người hỏi được làm lúc này.")


class InboxItem(BaseModel):
    code: str
    procedure_code: str
    procedure_name: str
    status: State
    status_label: str
    national_status: int
    applicant_name: str
    competent_agency_code: str
    receiving_agency_code: str
    current_step: int
    handler_id: int | None
    submitted_at: LocalDateTime
    due_at: LocalDateTime
    step_due_at: LocalDateTime | None
    overdue: bool
    urgency: Literal["overdue", "due_today", "due_soon", "normal", "ready", "closed"] = Field(
        description="Quá hạn / đến hạn hôm nay / sắp đến hạn (trong 2 ngày làm việc) / còn hạn / "
        "chờ trả kết quả / đã kết thúc."
    )


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    page_size: int


class InboxQuery(_In):
    state: list[State] = Field(
        default_factory=list,
        description="Trạng thái (lặp lại được). Mặc định: cán bộ thấy hồ sơ chưa kết thúc, "
        "công dân thấy mọi hồ sơ của mình.",
    )
    step: int | None = Field(None, ge=0, le=50, description="Bước xử lý hiện tại.")
    due_before: LocalDateTime | None = Field(None, description="Hạn xử lý trước thời điểm này.")
    due_after: LocalDateTime | None = Field(None, description="Hạn xử lý sau thời điểm này.")
    overdue: bool | None = Field(None, description="Chỉ hồ sơ quá hạn (true) hoặc chưa (false).")
    procedure_code: str | None = Field(None, pattern=r"^\d\.\d{6}$")
    mine: bool = Field(False, description="Chỉ hồ sơ được phân công cho tôi.")
    q: str | None = Field(None, min_length=2, max_length=100, description="Mã hồ sơ, tên, số ĐDCN.")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)
    lang: str | None = Field(None, max_length=16)


class HistoryEntry(BaseModel):
    seq: int
    action: str
    action_label: str
    from_state: State | None
    to_state: State
    to_state_label: str
    at: LocalDateTime
    actor: str
    from_agency_code: str | None
    from_unit: str | None
    to_agency_code: str | None
    to_unit: str | None
    due_at: LocalDateTime | None
    timeliness: str | None = Field(description="early / on_time / late (bàn giao đúng hạn?).")
    note: str | None


class LookupOut(BaseModel):
    """What anyone may see with the code alone: no personal data."""

    code: str
    procedure_code: str
    procedure_name: str
    competent_agency: str
    status: State
    status_label: str
    national_status: int
    submitted_at: LocalDateTime
    received_at: LocalDateTime
    due_at: LocalDateTime
    resolved_at: LocalDateTime | None
    returned_at: LocalDateTime | None
    steps_total: int
    steps_done: int
    overdue: bool
