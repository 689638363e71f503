"""Ratings and rankings in a real Chromium: an anonymous reporter rates an answered report
from the tracking link; a citizen rates a returned dossier from its page; the public rankings
page (table, chart, sorting, CSV link) on a desktop and a phone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import ANONYMOUS, Actor, Role, system_admin
from cityhall.dossiers import service as dossiers
from cityhall.dossiers.schemas import ActionIn as DossierActionIn
from cityhall.dossiers.schemas import DossierSubmit
from cityhall.engagement import service as engagement
from cityhall.engagement.schemas import Level, RatingIn, SubjectKind
from cityhall.engagement.subjects import Subject
from cityhall.feedback import service as feedback
from cityhall.feedback.schemas import Action, ActionIn, PortalReportIn
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from cityhall.places import queries as places
from cityhall.places.schemas import UnitQuery
from tests.browser.a11y import assert_accessible

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WARD, UNIT = "000.67.40.H29", "26740"  # Phường Sài Gòn


def _staff(s: Session) -> dict[str, Actor]:
    official = identity.create_official(
        s,
        actor=system_admin(),
        data=OfficialCreate(
            username="canbo.saigon",
            full_name="Đỗ Cán Bộ",
            password="mat-khau-that-dai-1",
            roles=[
                RoleGrantIn(role=role, agency_code=WARD, unit_code=UNIT)
                for role in (
                    Role.INTAKE_OFFICER,
                    Role.HANDLER,
                    Role.APPROVER,
                    Role.FEEDBACK_OFFICER,
                )
            ],
        ),
    )
    actor = identity.official_as_actor(s, official.id)
    assert actor is not None
    return {"officer": actor, "id": official.id}  # type: ignore[dict-item]


def _returned_dossier(s: Session, owner: Actor, staff: dict[str, Any]) -> str:
    settings = get_settings()
    body = {
        "procedure_code": "1.001193",
        "channel": "online",
        "applicant": {
            "id_number": "079090001234",
            "full_name": "Nguyễn Văn An",
            "phone": "0909123456",
            "email": None,
            "address": {"street": "12 Lê Lợi", "unit_code": UNIT},
        },
        "form": {
            "child_full_name": "Nguyễn Minh Khôi",
            "child_birth_date": "2026-11-20",
            "child_sex": "Nam",
            "birth_place": "Bệnh viện Từ Dũ",
            "mother_full_name": "Trần Thị Bình",
            "relationship": "Cha",
        },
    }
    code = dossiers.submit_dossier(
        s, actor=owner, data=DossierSubmit.model_validate(body), settings=settings
    ).dossier.code
    officer = staff["officer"]
    for action, data in (
        ("accept", {}),
        ("assign", {"handler_id": staff["id"]}),
        ("forward", {"note": "Đủ điều kiện"}),
        ("approve", {"note": "Đồng ý"}),
        ("return-result", {}),
    ):
        dossiers.act(
            s,
            actor=officer,
            code=code,
            action=action,
            data=DossierActionIn.model_validate(data),
            settings=settings,
        )
    return code


def _answered_report(s: Session, staff: dict[str, Any]) -> str:
    settings = get_settings()
    submitted = feedback.submit_portal(
        s,
        actor=ANONYMOUS,
        data=PortalReportIn.model_validate(
            {
                "category_code": "tree.illegal_cutting",
                "description": "Có người chặt cây xanh trên vỉa hè trước số 20 Lê Lợi.",
                "lat": 10.7805,
                "long": 106.7030,
            }
        ),
        settings=settings,
    )
    feedback.route(s, report_id=submitted.report_id, settings=settings)
    for action, data in (
        (Action.START, ActionIn()),
        (Action.RESOLVE, ActionIn(note="Đã lập biên bản, yêu cầu trồng lại cây.")),
    ):
        feedback.act(
            s,
            actor=staff["officer"],
            public_id=submitted.public_id,
            action=action,
            data=data,
            settings=settings,
        )
    assert submitted.token
    return submitted.token


def _more_ratings(s: Session) -> None:
    """Ratings of reports in a few wards, so the ranking has something to rank."""
    settings = get_settings()
    wards = [
        u
        for u in places.search_units(s, UnitQuery.model_validate({"limit": 200})).items
        if u.level == 2
    ][:8]
    very, sat, bad = Level.VERY_SATISFIED, Level.SATISFIED, Level.NOT_SATISFIED
    plans = [
        [very] * 5 + [sat] * 3 + [bad],
        [very] * 2 + [sat] * 4 + [bad] * 2,
        [sat] * 5 + [bad] * 3,
        [very, sat, bad, bad, bad, sat],
        [very] * 3,
        [sat] * 7 + [bad],
        [very] * 6,
        [bad, sat],
    ]
    for unit, plan in zip(wards, plans, strict=True):
        agency = places.ward_agency(s, unit.code).code
        for i, level in enumerate(plan):
            engagement.rate(
                s,
                actor=ANONYMOUS,
                subject=Subject(
                    kind=SubjectKind.REPORT,
                    ref=f"PA-2612-{unit.code}{i:02d}",
                    label="Phản ánh mẫu",
                    unit_code=unit.code,
                    agency_code=agency,
                    closed_at=datetime.now(UTC),
                    rater_kind="anonymous",
                    rater_citizen_id=None,
                ),
                data=RatingIn(level=level, reasons=["late"] if level is bad else []),
                settings=settings,
            )


def _setup(factory: sessionmaker[Session]) -> dict[str, str]:
    settings = get_settings()
    with factory() as s, s.begin():
        an = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090001234", full_name="Nguyễn Văn An"
        )
        _, session_token = identity.open_citizen_session(
            s, citizen=an, kind="browser", settings=settings, method="test"
        )
        staff = _staff(s)
        code = _returned_dossier(s, identity.citizen_actor(an), staff)
        token = _answered_report(s, staff)
        _more_ratings(s)
    return {"session": session_token, "code": code, "token": token}


def _no_horizontal_scroll(page, context: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{context}: horizontal scroll ({width}px > {viewport}px)"


def test_rating_a_report_a_dossier_and_the_rankings(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    data = _setup(fresh_factory)

    # An anonymous reporter, from the tracking link: the form appears on the page (htmx).
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    page = context.new_page()
    page.goto(live_server + f"/phan-anh/theo-doi/{data['token']}")
    page.wait_for_selector("form.rating-form")
    late = page.get_by_label("Giải quyết chậm, trễ hạn")
    assert not late.is_visible()  # only the chosen level's reasons are shown
    page.get_by_text("Không hài lòng", exact=True).click()
    assert late.is_visible()
    assert not page.get_by_label("Giải quyết nhanh, trước hạn").is_visible()
    assert_accessible(page, context="theo dõi phản ánh, đánh giá")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_selector("text=Vui lòng chọn ít nhất một lý do")  # not satisfied: why?
    late = page.get_by_label("Giải quyết chậm, trễ hạn")
    late.check()
    page.get_by_label("Góp ý thêm (không bắt buộc)").fill("Hai tuần mới có người đến.")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_selector("text=Cảm ơn bạn đã đánh giá.")
    assert "Bạn đã đánh giá:" in page.content()
    assert_accessible(page, context="đã đánh giá phản ánh")
    page.screenshot(path=str(SHOTS / "rating-report.png"), full_page=True)
    context.close()

    # A citizen, from their returned dossier's page.
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    context.add_cookies([{"name": "ch_session", "value": data["session"], "url": live_server}])
    page = context.new_page()
    page.goto(live_server + f"/ho-so-cua-toi/{data['code']}")
    page.get_by_role("link", name="Đánh giá", exact=True).click()
    page.wait_for_selector("form.rating-form")
    assert_accessible(page, context="đánh giá hồ sơ")
    page.get_by_text("Rất hài lòng", exact=True).click()
    page.get_by_label("Giải quyết nhanh, trước hạn").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_selector("text=Cảm ơn bạn đã đánh giá.")
    page.goto(live_server + f"/ho-so-cua-toi/{data['code']}")
    page.wait_for_selector("text=Bạn đã đánh giá:")
    assert page.get_by_role("link", name="Xem, sửa đánh giá").is_visible()
    context.close()

    # The rankings, on a desktop and a phone.
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(locale="vi-VN", viewport=size)
        page = context.new_page()
        page.goto(live_server + "/xep-hang")
        table = page.locator("table.rankings")
        assert table.locator("tbody tr").count() >= 8
        assert "Chưa đủ mẫu" in table.inner_text()  # fewer than 5 ratings: not ranked
        assert page.locator("ol.bars li").count() >= 8
        assert_accessible(page, context=f"xếp hạng ({name})")
        _no_horizontal_scroll(page, f"xếp hạng ({name})")
        shot = "rankings.png" if name == "desktop" else "rankings-phone.png"
        page.screenshot(path=str(SHOTS / shot), full_page=True)
        page.get_by_role("link", name="Số đánh giá").click()
        page.wait_for_selector("th[aria-sort='descending'] >> text=Số đánh giá")
        page.get_by_label("Xếp hạng", exact=True).select_option("agencies")
        page.get_by_role("button", name="Xem").click()
        page.wait_for_selector("caption >> text=Cơ quan")
        with page.expect_download() as download:
            page.get_by_role("link", name="Tải về CSV").click()
        assert download.value.suggested_filename.startswith("xep-hang-agencies-")
        context.close()
