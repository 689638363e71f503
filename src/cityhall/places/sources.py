"""Reading the reference data out of the installed packages (no database here).

- current units: ``vietnam-provinces`` (2025 two-level data, statistics office codes);
- former units and their successors: ``vietnamadminunits`` (its SQLite dataset of the
  63-province units and its 2025 conversion tables);
- agencies: the table below, plus one People's Committee per current ward-level unit.

The data files are read directly (found with ``importlib.util.find_spec``), because
importing ``vietnamadminunits`` loads its whole address parser, which we do not need.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cityhall.places.enums import AgencyKind, AgencyLevel, FormerUnitKind, UnitKind
from cityhall.places.text import clean, fold, strip_prefix

CITY_CODE = "79"
# The provinces merged into Ho Chi Minh City on 1 July 2025 (Resolution 202/2025/QH15).
MERGED_PROVINCES = ("79", "74", "77")
AGENCY_SUFFIX = "H29"


@dataclass(frozen=True)
class UnitRow:
    code: str
    level: int
    kind: str
    division_type: str
    parent_code: str | None
    name: str
    short_name: str
    name_ascii: str
    codename: str


@dataclass(frozen=True)
class FormerUnitRow:
    code: str
    level: int
    kind: str
    division_type: str
    parent_code: str | None
    province_code: str
    name: str
    short_name: str
    full_name: str


@dataclass(frozen=True)
class SuccessionRow:
    former_code: str
    unit_code: str
    is_main: bool
    whole: bool


@dataclass(frozen=True)
class AgencyRow:
    code: str
    kind: str
    level: str
    parent_code: str | None
    unit_code: str
    name: str
    name_en: str | None
    short_name: str
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ReferenceData:
    units: list[UnitRow]
    former_units: list[FormerUnitRow]
    successions: list[SuccessionRow]
    agencies: list[AgencyRow]
    versions: dict[str, str]


# --- current units ---------------------------------------------------------------------

_UNIT_KINDS = {
    "thành phố trung ương": UnitKind.CITY,
    "phường": UnitKind.WARD,
    "xã": UnitKind.COMMUNE,
    "đặc khu": UnitKind.SPECIAL_ZONE,
}


def _unit_row(raw: dict[str, Any], *, level: int, parent: str | None, width: int) -> UnitRow:
    name = clean(str(raw["name"]))
    division_type = str(raw["division_type"])
    return UnitRow(
        code=str(raw["code"]).zfill(width),
        level=level,
        kind=_UNIT_KINDS[division_type].value,
        division_type=division_type,
        parent_code=parent,
        name=name,
        short_name=strip_prefix(name, division_type),
        name_ascii=fold(name),
        codename=str(raw["codename"]),
    )


def current_units() -> list[UnitRow]:
    """The city (first) and its 168 ward-level units, ordered by code."""
    import vietnam_provinces

    with Path(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH).open(encoding="utf-8") as fh:
        provinces: list[dict[str, Any]] = json.load(fh)
    city = next(p for p in provinces if str(p["code"]).zfill(2) == CITY_CODE)
    rows = [_unit_row(city, level=1, parent=None, width=2)]
    wards = [_unit_row(w, level=2, parent=CITY_CODE, width=5) for w in city["wards"]]
    rows.extend(sorted(wards, key=lambda r: r.code))
    return rows


# --- former units and successions -------------------------------------------------------


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the package {package} is not installed")
    return Path(spec.origin).parent / "data"


_FORMER_KINDS = {
    (1, "thành phố"): FormerUnitKind.CITY,
    (1, "tỉnh"): FormerUnitKind.PROVINCE,
    (2, "quận"): FormerUnitKind.URBAN_DISTRICT,
    (2, "huyện"): FormerUnitKind.RURAL_DISTRICT,
    (2, "thành phố"): FormerUnitKind.DISTRICT_CITY,
    (2, "thị xã"): FormerUnitKind.TOWN,
    (3, "phường"): FormerUnitKind.WARD,
    (3, "xã"): FormerUnitKind.COMMUNE,
    (3, "thị trấn"): FormerUnitKind.TOWNSHIP,
}


def _province_type(name: str) -> str:
    return "Thành phố" if name.lower().startswith("thành phố") else "Tỉnh"


def _former(
    code: str,
    level: int,
    division_type: str,
    parent: str | None,
    province: str,
    name: str,
    short: str,
    path: Iterable[str],
) -> FormerUnitRow:
    return FormerUnitRow(
        code=code,
        level=level,
        kind=_FORMER_KINDS[(level, division_type.lower())].value,
        division_type=division_type,
        parent_code=parent,
        province_code=province,
        name=name,
        short_name=short,
        full_name=", ".join(path),
    )


def former_units_and_successions(
    units: list[UnitRow],
) -> tuple[list[FormerUnitRow], list[SuccessionRow]]:
    """Former units of the merged provinces and the current unit(s) each one went into."""
    data = _package_data("vietnamadminunits")
    by_name = {u.name: u.code for u in units if u.level == 2}
    columns = (
        "provinceCode, province, provinceShort, provinceKey, "
        "districtCode, district, districtShort, districtType, districtKey, "
        "wardCode, ward, wardShort, wardType, wardKey"
    )
    marks = ", ".join("?" for _ in MERGED_PROVINCES)
    with sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        new_keys = {
            r["wardKey"]: clean(r["ward"])
            for r in db.execute(
                "SELECT wardKey, ward FROM admin_units WHERE provinceCode = ?", (CITY_CODE,)
            )
        }
        city_key = db.execute(
            "SELECT provinceKey FROM admin_units WHERE provinceCode = ? LIMIT 1", (CITY_CODE,)
        ).fetchone()[0]
        legacy = db.execute(
            f"SELECT {columns} FROM admin_units_legacy WHERE provinceCode IN ({marks}) "
            "ORDER BY provinceCode, districtCode, wardCode",
            MERGED_PROVINCES,
        ).fetchall()
    with (data / "converter_2025.json").open(encoding="utf-8") as fh:
        converter = json.load(fh)

    # The two packages name the same 168 units; their codes differ for a few, so match by
    # name and keep vietnam-provinces' codes.
    key_to_code: dict[str, str] = {}
    for key, name in new_keys.items():
        if name not in by_name:
            raise RuntimeError(
                f"vietnamadminunits names a unit unknown to vietnam-provinces: {name}"
            )
        key_to_code[key] = by_name[name]
    whole: dict[str, str] = {}
    for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][city_key].items():
        for old_key in old_keys:
            whole[old_key] = key_to_code[new_key]
    divided: dict[str, list[tuple[str, bool]]] = {
        old_key: [(key_to_code[n["newWardKey"]], bool(n["isDefaultNewWard"])) for n in new]
        for old_key, new in converter["DICT_PROVINCE_WARD_DIVIDED"].get(city_key, {}).items()
    }

    formers: dict[str, FormerUnitRow] = {}
    successions: dict[tuple[str, str], SuccessionRow] = {}
    district_successors: dict[str, set[str]] = {}

    def succeed(former: str, unit: str, *, main: bool, entire: bool) -> None:
        successions[(former, unit)] = SuccessionRow(former, unit, main, entire)

    for r in legacy:
        p_code, d_code = str(r["provinceCode"]).zfill(2), str(r["districtCode"]).zfill(3)
        province, district = clean(r["province"]), clean(r["district"])
        if p_code not in formers:
            formers[p_code] = _former(
                p_code, 1, _province_type(province), None, p_code, province,
                clean(r["provinceShort"]), [province],
            )  # fmt: skip
            succeed(p_code, CITY_CODE, main=True, entire=True)
        if d_code not in formers:
            formers[d_code] = _former(
                d_code, 2, clean(r["districtType"]), p_code, p_code, district,
                clean(r["districtShort"]), [district, province],
            )  # fmt: skip
            district_successors[d_code] = set()
        old_key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if not r["wardCode"]:
            # A district without wards (Côn Đảo): the district itself has a successor.
            if old_key in whole:
                succeed(d_code, whole[old_key], main=True, entire=True)
            continue
        w_code = str(r["wardCode"]).zfill(5)
        ward = clean(r["ward"])
        formers[w_code] = _former(
            w_code, 3, clean(r["wardType"]), d_code, p_code, ward, clean(r["wardShort"]),
            [ward, district, province],
        )  # fmt: skip
        if old_key in whole:
            succeed(w_code, whole[old_key], main=True, entire=True)
            district_successors[d_code].add(whole[old_key])
        for unit, main in divided.get(old_key, []):
            succeed(w_code, unit, main=main, entire=False)
            district_successors[d_code].add(unit)
    for d_code, successors in district_successors.items():
        single = len(successors) == 1
        for unit in successors:
            succeed(d_code, unit, main=single, entire=single)
    ordered = sorted(formers.values(), key=lambda f: (f.level, f.code))
    return ordered, sorted(successions.values(), key=lambda s: (s.former_code, s.unit_code))


# --- agencies ---------------------------------------------------------------------------

# City-level bodies. The number is Y1Y2 in 000.00.Y1Y2.H29; it is assigned once and never
# reused: a new body takes the next free number, a dissolved one keeps its number retired.
CITY_BODIES: tuple[tuple[int, AgencyKind, str, str, str], ...] = (
    (0, AgencyKind.CITY_COMMITTEE, "Ủy ban nhân dân Thành phố Hồ Chí Minh", "UBND Thành phố",
     "People's Committee of Ho Chi Minh City"),
    (1, AgencyKind.SERVICE_CENTRE, "Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh",
     "Trung tâm Phục vụ hành chính công", "Public Administrative Service Centre"),
    (2, AgencyKind.DEPARTMENT, "Văn phòng Ủy ban nhân dân Thành phố", "Văn phòng UBND Thành phố",
     "Office of the City People's Committee"),
    (3, AgencyKind.DEPARTMENT, "Thanh tra Thành phố", "Thanh tra Thành phố", "City Inspectorate"),
    (4, AgencyKind.DEPARTMENT, "Sở Nội vụ", "Sở Nội vụ", "Department of Home Affairs"),
    (5, AgencyKind.DEPARTMENT, "Sở Tư pháp", "Sở Tư pháp", "Department of Justice"),
    (6, AgencyKind.DEPARTMENT, "Sở Tài chính", "Sở Tài chính", "Department of Finance"),
    (7, AgencyKind.DEPARTMENT, "Sở Công Thương", "Sở Công Thương",
     "Department of Industry and Trade"),
    (8, AgencyKind.DEPARTMENT, "Sở Xây dựng", "Sở Xây dựng", "Department of Construction"),
    (9, AgencyKind.DEPARTMENT, "Sở Nông nghiệp và Môi trường", "Sở Nông nghiệp và Môi trường",
     "Department of Agriculture and Environment"),
    (10, AgencyKind.DEPARTMENT, "Sở Giáo dục và Đào tạo", "Sở Giáo dục và Đào tạo",
     "Department of Education and Training"),
    (11, AgencyKind.DEPARTMENT, "Sở Y tế", "Sở Y tế", "Department of Health"),
    (12, AgencyKind.DEPARTMENT, "Sở Văn hóa và Thể thao", "Sở Văn hóa và Thể thao",
     "Department of Culture and Sports"),
    (13, AgencyKind.DEPARTMENT, "Sở Khoa học và Công nghệ", "Sở Khoa học và Công nghệ",
     "Department of Science and Technology"),
    (14, AgencyKind.DEPARTMENT, "Sở Du lịch", "Sở Du lịch", "Department of Tourism"),
    (15, AgencyKind.DEPARTMENT, "Sở Dân tộc và Tôn giáo", "Sở Dân tộc và Tôn giáo",
     "Department of Ethnic and Religious Affairs"),
    (16, AgencyKind.DEPARTMENT, "Sở Ngoại vụ", "Sở Ngoại vụ", "Department of Foreign Affairs"),
    (17, AgencyKind.POLICE, "Công an Thành phố Hồ Chí Minh", "Công an Thành phố",
     "Ho Chi Minh City Police"),
)  # fmt: skip

CITY_COMMITTEE_ADDRESS = "86 Lê Thánh Tôn, Phường Sài Gòn, Thành phố Hồ Chí Minh"


def city_agency_code(number: int) -> str:
    return f"000.00.{number:02d}.{AGENCY_SUFFIX}"


def ward_agency_code(unit_code: str) -> str:
    """``26740`` -> ``000.67.40.H29``: Z1Z2.Y1Y2 are the last four digits of the unit code.

    Every ward-level code of the city lies in 25xxx-27xxx, so the last four digits are
    unique, and Z1Z2 is never ``00`` (which city-level bodies use).
    """
    tail = unit_code[-4:]
    if len(unit_code) != 5 or not unit_code.isdigit() or tail.startswith("00"):
        raise ValueError(f"no agency code can be derived from unit code {unit_code!r}")
    return f"000.{tail[:2]}.{tail[2:]}.{AGENCY_SUFFIX}"


_EN_KIND = {
    UnitKind.WARD.value: "Ward",
    UnitKind.COMMUNE.value: "Commune",
    UnitKind.SPECIAL_ZONE.value: "Special Zone",
}


def agencies(units: list[UnitRow]) -> list[AgencyRow]:
    city = city_agency_code(0)
    rows = [
        AgencyRow(
            code=city_agency_code(number),
            kind=kind.value,
            level=AgencyLevel.CITY.value,
            parent_code=None if kind in (AgencyKind.CITY_COMMITTEE, AgencyKind.POLICE) else city,
            unit_code=CITY_CODE,
            name=name,
            name_en=name_en,
            short_name=short,
            address=CITY_COMMITTEE_ADDRESS if kind is AgencyKind.CITY_COMMITTEE else None,
        )
        for number, kind, name, short, name_en in CITY_BODIES
    ]
    for unit in units:
        if unit.level != 2:
            continue
        rows.append(
            AgencyRow(
                code=ward_agency_code(unit.code),
                kind=AgencyKind.WARD_COMMITTEE.value,
                level=AgencyLevel.COMMUNE.value,
                parent_code=city,
                unit_code=unit.code,
                name=f"Ủy ban nhân dân {unit.division_type} {unit.short_name}",
                name_en=f"People's Committee of {fold(unit.short_name)} {_EN_KIND[unit.kind]}",
                short_name=f"UBND {unit.division_type} {unit.short_name}",
            )
        )
    codes = [r.code for r in rows]
    if len(set(codes)) != len(codes):
        raise RuntimeError("two agencies got the same code")
    return rows


@lru_cache(maxsize=1)
def reference_data() -> ReferenceData:
    """Everything, read once per process (the packages do not change while we run)."""
    units = current_units()
    former, successions = former_units_and_successions(units)
    versions = {
        name: importlib.metadata.version(name)
        for name in ("vietnam-provinces", "vietnamadminunits")
    }
    return ReferenceData(units, former, successions, agencies(units), versions)
