"""Every main page in a real Chromium, on a phone and a desktop: no serious or critical
axe violation, usable with the keyboard, and screenshots for the README
(docs/screenshots/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import Role, system_admin
from cityhall.dossiers.schemas import DossierSubmit
from cityhall.dossiers.service import submit_dossier
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
WARD = "000.67.40.H29"


def _setup(factory: sessionmaker[Session]) -> tuple[str, str]:
    """A citizen with a dossier and a browser session; the ward's head. Returns
    (citizen session token, dossier code)."""
    settings = get_settings()
    with factory() as s, s.begin():
        person = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090001234", full_name="Nguyễn Văn An"
        )
        _, token = identity.open_citizen_session(
            s, citizen=person, kind="browser", settings=settings, method="test"
        )
        identity.create_official(
            s,
            actor=system_admin(),
            data=OfficialCreate(
                username="lanhdao.test",
                full_name="Hoàng Lãnh Đạo",
                password="mat-khau-that-dai-1",
                roles=[
                    RoleGrantIn(role=Role.APPROVER, agency_code=WARD, unit_code="26740"),
                    RoleGrantIn(role=Role.INTAKE_OFFICER, agency_code=WARD, unit_code="26740"),
                    RoleGrantIn(role=Role.ADMIN, agency_code="000.00.00.H29"),
                ],
            ),
        )
        body = {
            "procedure_code": "1.001193",
            "channel": "online",
            "applicant": {
                "id_number": "079090001234",
                "full_name": "Nguyễn Văn An",
                "phone": "0909123456",
                "email": None,
                "address": {"street": "12 Lê Lợi", "unit_code": "26740"},
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
        code = submit_dossier(
            s,
            actor=identity.citizen_actor(person),
            data=DossierSubmit.model_validate(body),
            settings=settings,
        ).dossier.code
    return token, code


def _check(page, url: str, name: str, context: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    assert_accessible(page, context=context)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{context}: horizontal scroll ({width}px > {viewport}px)"


def test_every_main_page_is_accessible_on_phone_and_desktop(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    token, code = _setup(fresh_factory)
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(locale="vi-VN", viewport=size)
        page = context.new_page()
        _check(page, live_server + "/", f"home-{size_name}", f"trang chủ ({size_name})")
        _check(page, live_server + "/thu-tuc?q=khai+sin", f"search-{size_name}", "tìm thủ tục")
        _check(page, live_server + "/thu-tuc/1.001193", f"procedure-{size_name}", "trang thủ tục")
        _check(page, live_server + f"/tra-cuu/{code}", f"lookup-{size_name}", "tra cứu công khai")
        context.add_cookies([{"name": "ch_session", "value": token, "url": live_server}])
        _check(
            page,
            live_server + "/thu-tuc/1.001193/nop-ho-so",
            f"apply-{size_name}",
            "biểu mẫu nộp hồ sơ",
        )
        page.get_by_role("button", name="Nộp hồ sơ").click()
        page.wait_for_selector("#form-errors")
        assert_accessible(page, context="biểu mẫu có lỗi")
        page.screenshot(path=str(SHOTS / f"apply-errors-{size_name}.png"))
        _check(page, live_server + "/ho-so-cua-toi", f"mine-{size_name}", "hồ sơ của tôi")
        _check(
            page, live_server + f"/ho-so-cua-toi/{code}", f"own-{size_name}", "một hồ sơ của tôi"
        )
        context.clear_cookies()
        page.goto(live_server + "/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill("lanhdao.test")
        page.get_by_label("Mật khẩu", exact=True).fill("mat-khau-that-dai-1")
        page.get_by_role("button", name="Đăng nhập").click()
        _check(page, live_server + "/can-bo/ho-so", f"inbox-{size_name}", "hộp hồ sơ")
        _check(
            page, live_server + f"/can-bo/ho-so/{code}", f"dossier-{size_name}", "hồ sơ (cán bộ)"
        )
        _check(
            page,
            live_server + "/can-bo/tiep-nhan?thu_tuc=1.001193",
            f"intake-{size_name}",
            "tiếp nhận tại quầy",
        )
        _check(
            page,
            live_server + "/quan-tri/can-bo",
            f"admin-officials-{size_name}",
            "quản trị cán bộ",
        )
        _check(page, live_server + "/quan-tri/lich", f"admin-calendar-{size_name}", "quản trị lịch")
        _check(
            page,
            live_server + "/quan-tri/danh-muc",
            f"admin-catalog-{size_name}",
            "quản trị danh mục",
        )
        context.close()


def test_apply_with_the_keyboard_only(live_server: str, fresh_factory, browser) -> None:  # type: ignore[no-untyped-def]
    token, _ = _setup(fresh_factory)
    context = browser.new_context(locale="vi-VN", viewport=DESKTOP)
    context.add_cookies([{"name": "ch_session", "value": token, "url": live_server}])
    page = context.new_page()
    page.goto(live_server + "/thu-tuc/1.001193")
    # Tab to the "apply" link and follow it with Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Nộp hồ sơ trực tuyến":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/nop-ho-so")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # the skip link comes first
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.tagName")
    assert focused in ("A", "INPUT", "SELECT", "BUTTON", "TEXTAREA")
    context.close()
