"""The kinds of things this domain stores (values are stored as text and used in the API)."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """A current administrative unit (since 1 July 2025)."""

    CITY = "city"  # thành phố trực thuộc trung ương (level 1)
    WARD = "ward"  # phường
    COMMUNE = "commune"  # xã
    SPECIAL_ZONE = "special_zone"  # đặc khu


class FormerUnitKind(StrEnum):
    """A unit that existed before 1 July 2025."""

    CITY = "city"  # thành phố trực thuộc trung ương (level 1)
    PROVINCE = "province"  # tỉnh
    URBAN_DISTRICT = "urban_district"  # quận
    RURAL_DISTRICT = "rural_district"  # huyện
    DISTRICT_CITY = "district_city"  # thành phố thuộc tỉnh / thuộc thành phố (level 2)
    TOWN = "town"  # thị xã
    WARD = "ward"  # phường
    COMMUNE = "commune"  # xã
    TOWNSHIP = "township"  # thị trấn


class AgencyKind(StrEnum):
    CITY_COMMITTEE = "city_committee"  # UBND Thành phố
    DEPARTMENT = "department"  # Sở and other specialised bodies of the city committee
    SERVICE_CENTRE = "service_centre"  # Trung tâm Phục vụ hành chính công
    POLICE = "police"  # Công an Thành phố
    WARD_COMMITTEE = "ward_committee"  # UBND of a ward, commune or special zone


class AgencyLevel(StrEnum):
    CITY = "city"
    COMMUNE = "commune"


def sql_in(enum: type[StrEnum]) -> str:
    """The values of ``enum`` as an SQL list, for CHECK constraints."""
    return ", ".join(f"'{member.value}'" for member in enum)
