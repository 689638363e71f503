"""The documents the registries answer with, as pydantic models: they describe the API in
each service's OpenAPI document. Handlers send pre-encoded JSON built from the same fields
(``synthetic.*.as_json``); a test checks the two agree."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressOut(_Doc):
    address_line: str = Field(description="Số nhà, đường (hẻm) hoặc tổ, ấp.")
    unit_code: str = Field(description="Mã đơn vị hành chính cấp xã hiện hành (5 chữ số).")
    unit_name: str = Field(description="Tên phường, xã, đặc khu.")
    province: str = Field(description="Tỉnh, thành phố.")


class CitizenOut(_Doc):
    pin: str = Field(description="Số định danh cá nhân (12 chữ số).")
    full_name: str
    birth_date: date
    sex: Literal["male", "female"]
    permanent_residence: AddressOut = Field(description="Nơi thường trú.")
    current_residence: AddressOut = Field(description="Nơi ở hiện tại.")
    household_id: str = Field(description="Mã hộ (HK-<mã đơn vị>-<số thứ tự>).")
    relation_to_head: str = Field(description="Quan hệ với chủ hộ (chủ hộ, vợ, chồng, con…).")


class MemberOut(_Doc):
    pin: str
    full_name: str
    birth_date: date
    sex: Literal["male", "female"]
    relation_to_head: str


class HouseholdOut(_Doc):
    household_id: str
    head_pin: str
    address: AddressOut = Field(description="Địa chỉ thường trú của hộ.")
    members: list[MemberOut] = Field(description="Chủ hộ trước, rồi các thành viên.")


class CodeName(_Doc):
    code: str
    name: str


class PersonRef(_Doc):
    pin: str
    full_name: str


class EnterpriseOut(_Doc):
    tax_code: str = Field(
        description="Mã số thuế: 10 chữ số (doanh nghiệp) hoặc 12 chữ số (hộ kinh doanh)."
    )
    name: str
    kind: CodeName = Field(description="Loại hình: household, llc_single, llc_multi, …")
    address: AddressOut = Field(description="Trụ sở chính (địa điểm kinh doanh).")
    legal_representative: PersonRef
    status: CodeName = Field(description="Tình trạng pháp lý: active, suspended, dissolved, …")
    registered_on: date
    main_line: CodeName = Field(description="Ngành nghề kinh doanh chính (mã VSIC 2018).")


class EnterpriseList(_Doc):
    items: list[EnterpriseOut]


class OwnerOut(_Doc):
    pin: str
    full_name: str
    share: float = Field(description="Phần sở hữu (1.0: một mình; 0.5: chung của vợ chồng).")


class ParcelOut(_Doc):
    parcel_id: str = Field(description="<mã đơn vị>-<số tờ bản đồ>-<số thửa>.")
    unit_code: str
    unit_name: str
    sheet: int = Field(description="Số tờ bản đồ địa chính.")
    number: int = Field(description="Số thửa đất trong tờ bản đồ.")
    address_line: str
    area_m2: float = Field(description="Diện tích (m²).")
    purpose: CodeName = Field(description="Mục đích sử dụng đất và ký hiệu (ODT, ONT, CLN, …).")
    owners: list[OwnerOut]
    certificate_no: str = Field(description="Số phát hành Giấy chứng nhận.")


class ParcelList(_Doc):
    items: list[ParcelOut]


class Health(_Doc):
    status: Literal["ok"]
    registry: str
    synthetic: bool
    seed: int
    people: int
    records: int


class DatasetInfo(_Doc):
    registry: str
    seed: int
    people: int
    records: int
    sha256: str = Field(
        description="SHA-256 của các bản ghi (dòng JSON): cùng seed và số người, cùng giá trị."
    )


class Problem(_Doc):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str
