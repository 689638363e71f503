from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.core.audit import AuditEvent
from cityhall.places.models import AdminUnit, Agency, FormerUnit, UnitSuccession
from cityhall.places.service import load_reference_data
from cityhall.places.sources import ward_agency_code

AGENCY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.H29$")


def _loaded_events(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "places.reference_data.loaded")
        )
        or 0
    )


def test_current_units_are_the_168_of_the_city(reference: dict[str, int], session: Session) -> None:
    assert reference["provinces"] == 1
    assert reference["units"] == 168
    assert (reference["wards"], reference["communes"], reference["special_zones"]) == (113, 54, 1)
    city = session.get(AdminUnit, "79")
    assert city is not None
    assert (city.name, city.kind, city.level) == ("Thành phố Hồ Chí Minh", "city", 1)
    zone = session.scalars(select(AdminUnit).where(AdminUnit.kind == "special_zone")).one()
    assert (zone.code, zone.name, zone.short_name) == ("26732", "Đặc khu Côn Đảo", "Côn Đảo")
    ben_thanh = session.get(AdminUnit, "26743")
    assert ben_thanh is not None
    assert (ben_thanh.name, ben_thanh.name_ascii, ben_thanh.search_text) == (
        "Phường Bến Thành",
        "Phuong Ben Thanh",
        "phuong ben thanh",
    )
    assert ben_thanh.parent_code == "79"
    # The source has "Phường  An Nhơn" with two spaces: names are cleaned.
    assert session.scalar(select(func.count()).where(AdminUnit.name.like("%  %"))) == 0


def test_loading_is_idempotent_and_fast(session: Session) -> None:
    started = time.perf_counter()
    first = load_reference_data(session)
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"loading took {elapsed:.2f} s"
    assert _loaded_events(session) == 1
    second = load_reference_data(session)
    assert second == first
    # Nothing changed, so nothing was written or audited the second time.
    assert _loaded_events(session) == 1
    assert session.scalar(select(func.count()).select_from(AdminUnit)) == 169
    assert first["former_units"] == session.scalar(select(func.count()).select_from(FormerUnit))


def test_reload_restores_changed_names_and_keeps_contact_details(
    reference: dict[str, int], session: Session
) -> None:
    unit = session.get(AdminUnit, "26743")
    agency = session.get(Agency, "000.00.05.H29")
    assert unit is not None
    assert agency is not None
    unit.name = "Phường X"
    agency.phone = "028 3829 0230"
    session.flush()
    assert load_reference_data(session) == reference
    session.expire_all()
    assert session.get(AdminUnit, "26743").name == "Phường Bến Thành"  # type: ignore[union-attr]
    assert session.get(Agency, "000.00.05.H29").phone == "028 3829 0230"  # type: ignore[union-attr]


def test_every_former_hcmc_ward_has_a_successor(
    reference: dict[str, int], session: Session
) -> None:
    wards = session.scalars(
        select(FormerUnit.code).where(FormerUnit.province_code == "79", FormerUnit.level == 3)
    ).all()
    assert len(wards) == 273
    mains = dict(
        session.execute(
            select(UnitSuccession.former_code, func.count())
            .where(UnitSuccession.is_main)
            .group_by(UnitSuccession.former_code)
        ).all()
    )
    assert [w for w in wards if mains.get(w) != 1] == []
    # Bình Dương and Bà Rịa–Vũng Tàu are in the history too, all mapped.
    unmapped = session.scalar(
        select(func.count())
        .select_from(FormerUnit)
        .where(~FormerUnit.code.in_(select(UnitSuccession.former_code)))
    )
    assert unmapped == 0
    assert {
        p: session.scalar(
            select(func.count()).where(FormerUnit.province_code == p, FormerUnit.level == 2)
        )
        for p in ("79", "74", "77")
    } == {"79": 22, "74": 9, "77": 7}


def _successors(session: Session, former: str) -> list[tuple[str, bool, bool]]:
    return [
        (name, main, whole)
        for name, main, whole in session.execute(
            select(AdminUnit.name, UnitSuccession.is_main, UnitSuccession.whole)
            .join(AdminUnit, AdminUnit.code == UnitSuccession.unit_code)
            .where(UnitSuccession.former_code == former)
            .order_by(UnitSuccession.is_main.desc(), AdminUnit.name)
        )
    ]


def test_well_known_successions(reference: dict[str, int], session: Session) -> None:
    ben_nghe = session.get(FormerUnit, "26740")
    assert ben_nghe is not None
    assert ben_nghe.full_name == "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
    assert _successors(session, "26740") == [("Phường Sài Gòn", True, True)]
    # Xã An Phú Tây (huyện Bình Chánh) was split; the data names its main successor.
    an_phu_tay = session.scalars(
        select(FormerUnit.code).where(FormerUnit.name == "Xã An Phú Tây")
    ).one()
    assert _successors(session, an_phu_tay) == [
        ("Phường Bình Đông", True, False),
        ("Xã Bình Chánh", False, False),
    ]
    # Huyện Côn Đảo had no wards: the district itself became the special zone.
    assert _successors(session, "755") == [("Đặc khu Côn Đảo", True, True)]
    # Former provinces went wholly into the city.
    for province in ("74", "77", "79"):
        assert _successors(session, province) == [("Thành phố Hồ Chí Minh", True, True)]
    # A former district maps to every unit its wards went into.
    district_1 = {name for name, _, _ in _successors(session, "760")}
    assert {"Phường Sài Gòn", "Phường Bến Thành", "Phường Tân Định"} <= district_1


def test_agencies_have_unique_well_formed_codes(
    reference: dict[str, int], session: Session
) -> None:
    agencies = session.scalars(select(Agency)).all()
    assert len(agencies) == reference["agencies"]
    codes = [a.code for a in agencies]
    assert all(AGENCY_CODE.match(c) for c in codes), codes
    assert len(set(codes)) == len(codes)
    committees = [a for a in agencies if a.kind == "ward_committee"]
    assert len(committees) == 168
    assert len({a.unit_code for a in committees}) == 168
    assert all(a.level == "commune" and a.parent_code == "000.00.00.H29" for a in committees)
    by_name = {a.name: a for a in agencies}
    city = by_name["Ủy ban nhân dân Thành phố Hồ Chí Minh"]
    assert (city.code, city.kind, city.level, city.unit_code) == (
        "000.00.00.H29",
        "city_committee",
        "city",
        "79",
    )
    assert by_name["Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh"].code == (
        "000.00.01.H29"
    )
    assert by_name["Công an Thành phố Hồ Chí Minh"].kind == "police"
    for department in (
        "Tư pháp",
        "Xây dựng",
        "Nông nghiệp và Môi trường",
        "Tài chính",
        "Công Thương",
        "Giáo dục và Đào tạo",
        "Y tế",
        "Nội vụ",
        "Văn hóa và Thể thao",
        "Khoa học và Công nghệ",
        "Du lịch",
        "Dân tộc và Tôn giáo",
    ):
        agency = by_name[f"Sở {department}"]
        assert (agency.kind, agency.parent_code) == ("department", "000.00.00.H29")
    ben_thanh = session.scalars(select(Agency).where(Agency.unit_code == "26743")).one()
    assert (ben_thanh.code, ben_thanh.name, ben_thanh.short_name) == (
        "000.67.43.H29",
        "Ủy ban nhân dân phường Bến Thành",
        "UBND phường Bến Thành",
    )


def test_ward_agency_code_is_derived_from_the_unit_code() -> None:
    assert ward_agency_code("26740") == "000.67.40.H29"
    assert ward_agency_code("25747") == "000.57.47.H29"
    with pytest.raises(ValueError, match="no agency code"):
        ward_agency_code("20012")


def test_cli_has_places_import() -> None:
    from cityhall.cli import build_parser
    from cityhall.places.commands import cmd_import

    args = build_parser().parse_args(["places", "import"])
    assert args.func is cmd_import
