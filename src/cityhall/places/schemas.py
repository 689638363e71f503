"""Pydantic schemas: query parameters in, reference data out."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cityhall.places.enums import AgencyKind, AgencyLevel, FormerUnitKind, UnitKind

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


# --- inputs (query parameters) -----------------------------------------------------------


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Số kết quả tối đa.")
    offset: int = Field(0, ge=0, le=1_000_000, description="Bỏ qua bấy nhiêu kết quả đầu.")
    lang: str | None = Field(
        None, max_length=16, description="Ngôn ngữ của thông báo lỗi (vi, en)."
    )


class UnitQuery(PageQuery):
    q: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Tên hoặc mã đơn vị; có dấu hay không dấu, chấp nhận lỗi gõ nhỏ.",
    )
    kind: UnitKind | None = Field(None, description="Loại đơn vị.")


class HistoryQuery(PageQuery):
    q: str = Field(
        min_length=2,
        max_length=200,
        description='Tên đơn vị cũ, có thể kèm quận/huyện: "Phường Bến Nghé, Quận 1".',
    )


class AgencyQuery(PageQuery):
    q: str | None = Field(None, min_length=1, max_length=100, description="Tên cơ quan.")
    kind: AgencyKind | None = Field(None, description="Loại cơ quan.")
    level: AgencyLevel | None = Field(None, description="Cấp: thành phố hay xã/phường.")
    unit_code: str | None = Field(
        None, pattern=r"^\d{2,5}$", description="Mã đơn vị hành chính mà cơ quan phục vụ."
    )


# --- outputs ------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(_Out, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class UnitOut(_Out):
    code: str = Field(description="Mã đơn vị hành chính (Tổng cục Thống kê).")
    level: int = Field(description="1: thành phố; 2: phường, xã, đặc khu.")
    kind: UnitKind
    division_type: str = Field(description='Loại đơn vị bằng tiếng Việt: "phường", "xã"…')
    name: str
    short_name: str
    name_ascii: str
    parent_code: str | None


class FormerUnitRef(_Out):
    """A former unit that went (wholly or partly) into a current unit."""

    code: str
    level: int
    kind: FormerUnitKind
    name: str
    full_name: str
    is_main: bool = Field(description="Đơn vị mới chính (mặc định) của đơn vị cũ.")
    whole: bool = Field(description="Toàn bộ đơn vị cũ thuộc về đơn vị mới này.")


class UnitDetail(UnitOut):
    former_units: list[FormerUnitRef]


class SuccessorRef(_Out):
    code: str
    kind: UnitKind
    name: str
    is_main: bool
    whole: bool


class FormerUnitOut(_Out):
    code: str
    level: int = Field(description="1: tỉnh/thành phố; 2: quận/huyện; 3: phường/xã/thị trấn.")
    kind: FormerUnitKind
    division_type: str
    name: str
    short_name: str
    full_name: str
    province_code: str
    parent_code: str | None
    successors: list[SuccessorRef]


class AgencyOut(_Out):
    code: str = Field(description="Mã định danh cơ quan (V1V2V3.Z1Z2.Y1Y2.H29).")
    kind: AgencyKind
    level: AgencyLevel
    name: str
    name_en: str | None
    short_name: str
    parent_code: str | None
    unit_code: str
    address: str | None
    phone: str | None
