"""An official logs in, sees their account, revokes nothing by accident, logs out."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core.actors import Role, system_admin
from cityhall.identity import service
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

ROOT = system_admin()


def _official(factory: sessionmaker[Session]) -> tuple[str, str]:
    with factory() as s, s.begin():
        service.create_official(
            s,
            actor=ROOT,
            data=OfficialCreate(
                username="thuly.phuong",
                full_name="Phạm Thị Thụ Lý",
                password="mat-khau-that-dai-1",
                roles=[RoleGrantIn(role=Role.HANDLER, agency_code="000.00.00.H29")],
            ),
        )
    return "thuly.phuong", "mat-khau-that-dai-1"


def test_official_logs_in_and_out(live_server: str, fresh_factory, page) -> None:  # type: ignore[no-untyped-def]
    username, password = _official(fresh_factory)
    page.goto(live_server + "/tai-khoan")
    assert page.url.startswith(live_server + "/dang-nhap")  # sent to log in first
    assert page.locator("h1").inner_text() == "Đăng nhập cán bộ"

    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert page.get_by_label("Tên đăng nhập").input_value() == username  # kept
    screenshot(page, "login-error")

    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server + "/tai-khoan")
    assert "Phạm Thị Thụ Lý" in page.locator("h1").inner_text()
    assert page.get_by_text("Cán bộ thụ lý").is_visible()
    assert page.get_by_text("Phiên hiện tại").is_visible()
    screenshot(page, "account")

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/tai-khoan")
    assert page.url.startswith(live_server + "/dang-nhap")
