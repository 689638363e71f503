"""The 1022 staff pages in a real Chromium: a focal officer opens a report from the inbox,
answers it after an inline error, and the moderator publishes it; the hotline operator
enters a call. No serious or critical axe violation; screenshot for the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import Role, system_admin
from cityhall.feedback import service
from cityhall.feedback.models import Report
from cityhall.feedback.schemas import PortalReportIn
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WARD = "000.67.40.H29"
CITY = "000.00.00.H29"
PASSWORD = "mat-khau-that-dai-1"


def _setup(factory: sessionmaker[Session]) -> str:
    settings = get_settings()
    with factory() as s, s.begin():
        for username, role, agency in (
            ("daumoi.saigon", Role.FEEDBACK_OFFICER, WARD),
            ("kiemduyet.test", Role.MODERATOR, CITY),
            ("tongdai.test", Role.HOTLINE_OPERATOR, CITY),
        ):
            identity.create_official(
                s,
                actor=system_admin(),
                data=OfficialCreate(
                    username=username,
                    full_name=f"Cán bộ {username}",
                    password=PASSWORD,
                    roles=[RoleGrantIn(role=role, agency_code=agency)],
                ),
            )
        person = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090004321", full_name="Trần Thị Bình"
        )
        submitted = service.submit_portal(
            s,
            actor=identity.citizen_actor(person),
            data=PortalReportIn(
                category_code="env.waste",
                description="Rác tồn đọng ba ngày ở đầu hẻm 12 Lê Lợi, bốc mùi.",
                attributes={"volume": "large"},
                lat=10.7805,
                long=106.7030,
            ),
            settings=settings,
        )
        service.route(s, report_id=submitted.report_id, settings=settings)
    return submitted.public_id


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(base + "/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_staff_handle_a_report_and_the_hotline_enters_a_call(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    public_id = _setup(fresh_factory)
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()

    _login(page, live_server, "daumoi.saigon")
    page.get_by_role("link", name="Phản ánh 1022").click()
    assert_accessible(page, context="hộp phản ánh")
    page.get_by_role("link", name=public_id).click()
    assert_accessible(page, context="một phản ánh (cán bộ)")
    page.locator("summary", has_text="Trả lời, đã giải quyết").click()
    page.get_by_role("button", name="Trả lời, đã giải quyết").click()
    error = page.locator("#note-resolve-error")
    assert error.is_visible()
    assert page.locator("#note-resolve").get_attribute("aria-invalid") == "true"
    assert_accessible(page, context="phản ánh, lỗi ngay tại ô")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "feedback-office.png"), full_page=False)
    screenshot(page, "feedback-office-error")
    page.locator("#note-resolve").fill("Đã thu gom toàn bộ rác, vệ sinh khu vực.")
    page.get_by_role("button", name="Trả lời, đã giải quyết").click()
    page.wait_for_selector("[role=status]")
    assert "Đã giải quyết" in page.content()

    _login(page, live_server, "kiemduyet.test")
    page.goto(live_server + "/can-bo/phan-anh/kiem-duyet")
    assert_accessible(page, context="hàng chờ kiểm duyệt")
    page.get_by_role("link", name=public_id).click()
    page.locator("summary", has_text="Kiểm duyệt nội dung").click()
    page.locator("#public-moderate").fill("Rác tồn đọng ở đầu hẻm.")
    page.get_by_role("button", name="Kiểm duyệt nội dung").click()
    page.wait_for_selector("[role=status]")

    _login(page, live_server, "tongdai.test")
    page.goto(live_server + "/can-bo/phan-anh/tong-dai")
    page.get_by_label("Lĩnh vực phản ánh").select_option("light.streetlight")
    page.get_by_role("button", name="Chọn lĩnh vực, hiện câu hỏi").click()
    assert_accessible(page, context="nhập cuộc gọi 1022")
    page.get_by_label("Tình trạng").select_option("off")
    page.get_by_label("Nội dung phản ánh").fill("Ba trụ đèn đường Pasteur không sáng.")
    page.get_by_label("Địa chỉ (số nhà, đường, phường, xã)").fill("Pasteur, Phường Sài Gòn")
    page.get_by_label("Họ và tên").fill("Lê Văn Tám")
    page.get_by_label("Số điện thoại").fill("0911222333")
    page.get_by_role("button", name="Tiếp nhận phản ánh").click()
    page.wait_for_selector("[role=status]")
    screenshot(page, "feedback-hotline-done")
    assert "Đã tiếp nhận phản ánh PA-" in page.content()
    context.close()

    with fresh_factory() as s:
        row = s.scalars(select(Report).where(Report.public_id == public_id)).one()
        assert (row.state, row.moderation) == ("resolved", "approved")
        assert s.scalars(select(Report).where(Report.channel == "phone")).first() is not None
