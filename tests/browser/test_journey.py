"""The whole journey in a real Chromium: a citizen logs in with the e-ID, finds "đăng ký
khai sinh", applies with an upload; the ward's officer takes it in and asks for a supplement;
the citizen supplements; the officer approves and returns the result; the citizen sees it
appear without reloading. On the way: a wrong upload, an empty required field and an
expired session each get a clear message and lose nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core.actors import Role, system_admin
from cityhall.identity import service as identity
from cityhall.identity.models import AuthSession
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

WARD = "000.67.40.H29"  # Phường Sài Gòn, where the demo citizen Nguyễn Văn An lives
PDF = b"%PDF-1.4\n" + b"giay chung sinh " * 300 + b"\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 512


def _officer(factory: sessionmaker[Session]) -> tuple[str, str]:
    with factory() as s, s.begin():
        identity.create_official(
            s,
            actor=system_admin(),
            data=OfficialCreate(
                username="canbo.saigon",
                full_name="Đỗ Cán Bộ",
                password="mat-khau-that-dai-1",
                roles=[
                    RoleGrantIn(role=role, agency_code=WARD, unit_code="26740")
                    for role in (Role.INTAKE_OFFICER, Role.HANDLER, Role.APPROVER)
                ],
            ),
        )
    return "canbo.saigon", "mat-khau-that-dai-1"


def _do(page, label: str, **fill: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("details.action").filter(has=page.locator("summary", has_text=label))
    box.locator("summary").click()
    for selector, value in fill.items():
        box.locator(selector).fill(value)
    box.get_by_role("button", name=label).click()
    page.wait_for_selector(".notice, .alert")
    assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()


def _expire_citizen_sessions(factory: sessionmaker[Session]) -> None:
    from datetime import UTC, datetime

    with factory() as s, s.begin():
        s.execute(
            update(AuthSession)
            .where(AuthSession.citizen_id.is_not(None))
            .values(revoked_at=datetime.now(UTC))
        )


def test_the_whole_journey(live_server: str, fresh_factory, browser) -> None:  # type: ignore[no-untyped-def]
    username, password = _officer(fresh_factory)
    citizen = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = citizen.new_page()

    # Find the procedure without diacritics, open it, apply: the e-ID login comes first.
    page.goto(live_server + "/")
    page.get_by_label("Bạn cần làm thủ tục gì?").fill("dang ky khai sinh")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Đăng ký khai sinh", exact=True).click()
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
    assert_accessible(page, context="VNeID (mô phỏng): chọn công dân")
    # Declining at the e-ID is a clear page with a way back, not a dead end.
    page.get_by_role("button", name="Từ chối").click()
    page.wait_for_selector("text=Thử đăng nhập lại")
    assert_accessible(page, context="đăng nhập bị từ chối")
    page.get_by_role("link", name="Thử đăng nhập lại").click()
    page.get_by_label("Nguyễn Văn An").check()
    page.get_by_role("button", name="Đồng ý chia sẻ và đăng nhập").click()
    page.wait_for_url(re.compile(r".*/thu-tuc/1\.001193/nop-ho-so|.*/ho-so-cua-toi"))
    if "/ho-so-cua-toi" in page.url:  # a retried login may land on "my dossiers"
        page.goto(live_server + "/thu-tuc/1.001193/nop-ho-so")
    assert "079090001234" in page.content()  # the ID number comes from the login
    assert page.locator("#street").input_value() == "12 Lê Lợi"  # and the residence too

    # A wrong upload: refused on its field, with the reason.
    page.set_input_files(
        "#doc_GIAY_CHUNG_SINH",
        files=[{"name": "virus.exe", "mimeType": "application/octet-stream", "buffer": EXE}],
    )
    status = page.locator('.doc[data-doc="GIAY_CHUNG_SINH"] .status')
    page.wait_for_function(
        "el => el.textContent.trim().length > 0 && !el.textContent.includes('Đang tải')",
        arg=status.element_handle(),
    )
    assert page.locator("#doc_GIAY_CHUNG_SINH").get_attribute("aria-invalid") == "true"
    wrong = status.inner_text()
    assert wrong
    assert "Đã tải lên" not in wrong

    # The right file, with progress; then a required field left empty.
    page.set_input_files(
        "#doc_GIAY_CHUNG_SINH",
        files=[{"name": "chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.wait_for_function(
        "el => el.textContent.includes('chung-sinh.pdf')", arg=status.element_handle()
    )
    page.get_by_label("Nữ").check()
    page.locator("#f_child_birth_date").fill("2026-11-20")
    page.locator("#f_birth_place").fill("Bệnh viện Từ Dũ")
    page.locator("#f_mother_full_name").fill("Trần Thị Bình")
    page.locator("#f_relationship").select_option("Cha")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.wait_for_selector("#form-errors")
    assert (
        page.locator("#f_child_full_name-error").inner_text()
        == "Chưa nhập Họ, chữ đệm, tên của trẻ."
    )
    assert page.locator("#f_birth_place").input_value() == "Bệnh viện Từ Dũ"  # nothing lost
    assert "chung-sinh.pdf" in page.content()  # the upload neither
    screenshot(page, "journey-form-errors")

    # The session expires before the citizen submits: log in again, everything is back.
    page.locator("#f_child_full_name").fill("Nguyễn Minh Thư")
    _expire_citizen_sessions(fresh_factory)
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.wait_for_selector("text=Phiên đăng nhập đã hết hạn")
    assert_accessible(page, context="phiên đăng nhập hết hạn")
    screenshot(page, "journey-session-expired")
    page.get_by_role("link", name="Đăng nhập lại bằng VNeID và tiếp tục").click()
    page.get_by_label("Nguyễn Văn An").check()
    page.get_by_role("button", name="Đồng ý chia sẻ và đăng nhập").click()
    page.wait_for_selector("text=những gì bạn đã nhập được giữ lại")
    assert page.locator("#f_child_full_name").input_value() == "Nguyễn Minh Thư"
    assert "chung-sinh.pdf" in page.content()
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.wait_for_selector("text=Đã nộp hồ sơ thành công")
    code = re.search(r"000\.67\.40\.H29-\d{6}-\d{4,}", page.content()).group(0)  # type: ignore[union-attr]
    screenshot(page, "journey-receipt")

    # The ward's officer takes it in, assigns it and asks for a supplement.
    office = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    desk = office.new_page()
    desk.goto(live_server + "/dang-nhap")
    desk.get_by_label("Tên đăng nhập").fill(username)
    desk.get_by_label("Mật khẩu", exact=True).fill(password)
    desk.get_by_role("button", name="Đăng nhập").click()
    desk.goto(live_server + "/can-bo/ho-so")
    desk.get_by_role("link", name=code).click()
    _do(desk, "Tiếp nhận hồ sơ")
    box = desk.locator("details.action").filter(
        has=desk.locator("summary", has_text="Phân công xử lý")
    )
    box.locator("summary").click()
    box.locator("select").select_option(label="Đỗ Cán Bộ")
    box.get_by_role("button", name="Phân công xử lý").click()
    desk.wait_for_selector(".notice")
    box = desk.locator("details.action").filter(
        has=desk.locator("summary", has_text="Yêu cầu bổ sung hồ sơ")
    )
    box.locator("summary").click()
    box.get_by_label("Giấy chứng sinh do cơ sở y tế cấp").check()
    box.locator("textarea[name=note]").fill("Ảnh giấy chứng sinh bị mờ, đề nghị tải lại bản rõ")
    box.get_by_role("button", name="Yêu cầu bổ sung hồ sơ").click()
    desk.wait_for_selector("text=Cần bổ sung hồ sơ")

    # The citizen sees what is missing and supplements on the page.
    page.goto(live_server + f"/ho-so-cua-toi/{code}")
    assert page.get_by_role("heading", name="Cơ quan yêu cầu bổ sung hồ sơ").is_visible()
    assert "Giấy chứng sinh do cơ sở y tế cấp" in page.content()
    page.set_input_files(
        "#doc_GIAY_CHUNG_SINH",
        files=[{"name": "chung-sinh-ro.pdf", "mimeType": "application/pdf", "buffer": PDF + b"ro"}],
    )
    page.wait_for_selector("text=chung-sinh-ro.pdf")
    page.get_by_label("Nội dung bổ sung").fill("Đã tải lại bản rõ")
    page.get_by_role("button", name="Gửi bổ sung").click()
    page.wait_for_selector("text=Đang xử lý")

    # The officer moves it to the decision, approves and returns the result...
    desk.reload()
    _do(desk, "Chuyển bước tiếp theo")
    _do(desk, "Phê duyệt")
    _do(desk, "Trả kết quả")
    screenshot(desk, "journey-officer-done")

    # ...and the citizen's open page shows it without reloading (htmx polls the timeline).
    page.wait_for_selector("#timeline >> text=Đã trả kết quả", timeout=20_000)
    screenshot(page, "journey-citizen-result")
    page.goto(live_server + "/thu-tuc/9.999999")
    assert page.get_by_role("heading").first.is_visible()
    assert_accessible(page, context="trang lỗi 404")
    office.close()
    citizen.close()
