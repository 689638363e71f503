"""The data-sharing platform's pages in a real Chromium, against a real server whose exchange
calls the national registries' stand-ins (separate processes, see tests/conftest.py):

- anyone finds a shared service in the public catalogue, with or without diacritics, filters
  by classification and opens the service's page;
- a citizen logged in with the (development) e-ID opens the birth-registration form: the
  population database has verified them, filled the address and stands in for the identity
  document; then on "who accessed my data" sees that very lookup, and gives and withdraws a
  consent;
- a platform administrator sees the lookup in the monitoring table, and a right granted to a
  malformed client id is refused on the page, with the reason.

Screenshots for the docs go to docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core.actors import CITY_AGENCY_CODE, Role, system_admin
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible

# Three server processes, three registry stand-ins and a browser on a shared machine: the
# default two minutes are not always enough for the setup and a journey of ten pages.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
POPULATION = "VN/GOV/BCA/CSDLQGDC/dan-cu"
LAND = "Tra cứu thửa đất và người sử dụng đất"
PEOPLE = "Tra cứu thông tin công dân, nơi cư trú và hộ gia đình"
VERIFIED = "Đã xác thực với Cơ sở dữ liệu quốc gia về dân cư"
PREFILL = "Điền sẵn thông tin vào tờ khai theo đồng ý của công dân"


def _shot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _no_horizontal_scroll(page, context: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{context}: horizontal scroll ({width}px > {viewport}px)"


_CONTRAST = """el => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (rgb) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  };
  let bg = [255, 255, 255];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || c[3] > 0) { bg = c; break; }
  }
  const [hi, lo] = [lum(parse(getComputedStyle(el).color)), lum(bg)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""


def _readable(button, what: str) -> None:  # type: ignore[no-untyped-def]
    """The button's text against what is behind it: WCAG AA (4.5:1), so it can be seen at
    all (a transparent button keeps the white text of a filled one)."""
    ratio = button.evaluate(_CONTRAST)
    assert ratio >= 4.5, f"{what}: contrast {ratio:.2f}:1"


def _results(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.strip() for t in page.locator("#results ul.results li > a").all_inner_texts()]


def _search(page, q: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Tìm dịch vụ, cơ sở dữ liệu hoặc cơ quan").fill(q)
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url(re.compile(r".*[?&]q="))


def test_the_public_catalogue(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="vi-VN", viewport=DESKTOP)
    page = context.new_page()
    page.goto(live_server + "/trao-doi-du-lieu")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Danh mục cơ sở dữ liệu và dịch vụ chia sẻ dữ liệu"
    )
    everything = _results(page)
    assert {LAND, PEOPLE} <= set(everything)
    assert page.get_by_text(f"Tìm thấy {len(everything)} dịch vụ.").is_visible()
    assert_accessible(page, context="danh mục dịch vụ chia sẻ dữ liệu")
    _no_horizontal_scroll(page, "danh mục dịch vụ chia sẻ dữ liệu")
    _shot(page, "exchange-catalogue")
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page, "danh mục dịch vụ chia sẻ dữ liệu (điện thoại)")
    page.set_viewport_size(DESKTOP)

    # Without diacritics, as typed on a phone without a Vietnamese keyboard, and with them.
    _search(page, "dat dai")
    assert _results(page) == [LAND]
    _search(page, "đất đai")
    assert _results(page) == [LAND]
    _search(page, "dan cu")
    assert _results(page) == [PEOPLE]
    _search(page, "khong co dich vu nay")
    assert _results(page) == []
    assert page.get_by_text("Không có dịch vụ phù hợp").is_visible()

    # Results follow the typing, without a button (htmx), and the address keeps the search.
    page.goto(live_server + "/trao-doi-du-lieu")
    page.get_by_label("Tìm dịch vụ, cơ sở dữ liệu hoặc cơ quan").press_sequentially("doanh ngh")
    expect(page.locator("#results ul.results li > a")).to_have_text(
        ["Tra cứu thông tin đăng ký doanh nghiệp, hộ kinh doanh"]
    )
    page.wait_for_url(re.compile(r".*q=doanh"))

    # The classification filter (the national services all hold personal data).
    page.goto(live_server + "/trao-doi-du-lieu")
    page.get_by_label("Phân loại dữ liệu").select_option(label="Công khai")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url(re.compile(r".*loai=public"))
    assert _results(page) == []
    page.get_by_label("Phân loại dữ liệu").select_option(label="Dữ liệu cá nhân")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url(re.compile(r".*loai=personal"))
    assert set(_results(page)) == set(everything)
    assert page.get_by_label("Phân loại dữ liệu").input_value() == "personal"  # kept

    # A service's page: who owns it, what for, on what legal basis, and its interface.
    _search(page, "dat dai")
    page.get_by_role("link", name=LAND).click()
    page.wait_for_url(re.compile(r".*/trao-doi-du-lieu/dich-vu\?id="))
    assert page.get_by_role("heading", level=1).inner_text() == LAND
    body = page.locator("main").inner_text()
    assert "VN/GOV/BNNMT/CSDLDD/dat-dai" in body
    assert "Cục Quản lý đất đai" in body
    assert "Giải quyết thủ tục hành chính" in body
    assert "chỉ khi người có dữ liệu đồng ý" in body  # form_prefill: consent only
    assert "GET /parcels/{parcel_id}" in body
    assert_accessible(page, context="trang một dịch vụ chia sẻ dữ liệu")
    _no_horizontal_scroll(page, "trang một dịch vụ chia sẻ dữ liệu")
    openapi = page.get_by_role("link", name="Tải mô tả OpenAPI").get_attribute("href")
    assert openapi
    spec = page.request.get(live_server + openapi)
    assert spec.status == 200
    assert "/parcels/{parcel_id}" in spec.json()["paths"]
    page.get_by_role("link", name="Danh mục dịch vụ chia sẻ dữ liệu").click()
    page.wait_for_url(re.compile(r".*/trao-doi-du-lieu$"))
    context.close()


def _platform_admin(factory: sessionmaker[Session]) -> tuple[str, str]:
    with factory() as s, s.begin():
        identity.create_official(
            s,
            actor=system_admin(),
            data=OfficialCreate(
                username="quantri.chiase",
                full_name="Vũ Quản Trị",
                password="mat-khau-that-dai-1",
                roles=[RoleGrantIn(role=Role.ADMIN, agency_code=CITY_AGENCY_CODE)],
            ),
        )
    return "quantri.chiase", "mat-khau-that-dai-1"


def _consent_item(page: Any) -> Any:
    return page.locator("#dong-y + p + ul > li").filter(has_text=PREFILL)


def test_never_ask_twice_who_looked_and_monitoring(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    username, password = _platform_admin(fresh_factory)
    citizen = browser.new_context(locale="vi-VN", viewport=PHONE)
    page = citizen.new_page()

    # Log in with the e-ID on the way to the birth-registration form.
    page.goto(live_server + "/thu-tuc/1.001193/nop-ho-so")
    page.get_by_label("Nguyễn Văn An").check()
    page.get_by_role("button", name="Đồng ý chia sẻ và đăng nhập").click()
    page.wait_for_url(re.compile(r".*/thu-tuc/1\.001193/nop-ho-so|.*/ho-so-cua-toi"))
    if "/nop-ho-so" not in page.url:
        page.goto(live_server + "/thu-tuc/1.001193/nop-ho-so")

    # The population database verified the applicant and filled the address...
    registry = page.get_by_role("region", name=re.compile(VERIFIED))
    assert registry.is_visible()
    assert "Nơi thường trú" in registry.inner_text()
    assert page.get_by_text("Điền sẵn theo Cơ sở dữ liệu quốc gia về dân cư").is_visible()
    street = page.locator("#street").input_value()
    assert street
    assert street in registry.inner_text()  # the address is the registry's
    assert page.locator("#address_unit").input_value() != ""
    # ...and stands in for the identity document: nothing to upload for it.
    identity_doc = page.locator('.doc[data-doc="GIAY_TO_TUY_THAN"]')
    assert "Có sẵn trong Cơ sở dữ liệu quốc gia về dân cư" in identity_doc.inner_text()
    assert "không cần nộp lại" in identity_doc.inner_text()
    assert identity_doc.locator("input[type=file]").count() == 0
    assert page.locator("#doc_GIAY_CHUNG_SINH").count() == 1  # the birth certificate is asked
    optional = page.locator('label[for="doc_KET_HON"]').inner_text()
    assert optional.count("nếu có") == 1, optional  # its name says it already
    # Without consent, the land database is not asked (no legal basis for this procedure).
    assert page.get_by_text("Đã xác thực với Cơ sở dữ liệu đất đai quốc gia").count() == 0
    assert_accessible(page, context="biểu mẫu nộp hồ sơ điền sẵn từ CSDL dân cư")
    _no_horizontal_scroll(page, "biểu mẫu nộp hồ sơ điền sẵn")
    _shot(page, "apply-prefilled")

    # "Who accessed my data": the lookup just made, through the exchange, for the procedure.
    page.goto(live_server + "/du-lieu-cua-toi")
    assert page.get_by_role("heading", level=1).inner_text() == "Ai đã truy cập dữ liệu của tôi"
    table = page.get_by_role("region", name=re.compile("Bảng lượt truy cập"))
    rows = table.locator("tbody tr").filter(has_text="Qua nền tảng chia sẻ dữ liệu")
    assert rows.count() >= 1
    row = rows.first.inner_text()
    assert PEOPLE in row
    assert "Hệ thống một cửa, khi bạn lập hồ sơ" in row
    assert "Giải quyết thủ tục hành chính" in row
    assert not table.locator("tbody tr").filter(has_text="Chưa có lượt truy cập nào").count()
    item = _consent_item(page)
    assert "chưa đồng ý" in item.inner_text()
    _readable(item.get_by_role("button", name="Đồng ý", exact=True), "nút Đồng ý")
    assert_accessible(page, context="ai đã truy cập dữ liệu của tôi")
    _no_horizontal_scroll(page, "ai đã truy cập dữ liệu của tôi")

    # Consent to prefilling from the other registries: the page says so, and the form now
    # shows what the land database holds (Nguyễn Văn An owns an orchard).
    with page.expect_navigation():
        item.get_by_role("button", name="Đồng ý", exact=True).click()
    item = _consent_item(page)
    assert "đang đồng ý" in item.inner_text()
    assert item.get_by_role("button", name="Rút lại sự đồng ý").is_visible()
    _readable(item.get_by_role("button", name="Rút lại sự đồng ý"), "nút Rút lại sự đồng ý")
    history = page.get_by_role("heading", name="Lịch sử").locator("xpath=following-sibling::ul[1]")
    assert "đồng ý lúc" in history.inner_text()
    assert "rút lại lúc" not in history.inner_text()
    assert_accessible(page, context="dữ liệu của tôi: đã đồng ý")
    _shot(page, "my-data")
    page.goto(live_server + "/thu-tuc/1.001193/nop-ho-so")
    assert page.get_by_role(
        "region", name=re.compile("Đã xác thực với Cơ sở dữ liệu đất đai quốc gia")
    ).is_visible()

    # Withdraw it: the page says so, the history keeps both times, the form stops asking.
    page.goto(live_server + "/du-lieu-cua-toi")
    with page.expect_navigation():
        _consent_item(page).get_by_role("button", name="Rút lại sự đồng ý").click()
    item = _consent_item(page)
    assert "chưa đồng ý" in item.inner_text()
    assert item.get_by_role("button", name="Đồng ý", exact=True).is_visible()
    history = page.get_by_role("heading", name="Lịch sử").locator("xpath=following-sibling::ul[1]")
    assert "rút lại lúc" in history.inner_text()
    # The land lookup made under the consent is in the table too, for its purpose.
    table = page.get_by_role("region", name=re.compile("Bảng lượt truy cập"))
    assert table.locator("tbody tr").filter(has_text=LAND).filter(has_text=PREFILL).count() >= 1
    page.goto(live_server + "/thu-tuc/1.001193/nop-ho-so")
    assert page.get_by_text("Đã xác thực với Cơ sở dữ liệu đất đai quốc gia").count() == 0
    citizen.close()

    # The platform administrator: the population service's calls in the monitoring table.
    office = browser.new_context(locale="vi-VN", viewport=DESKTOP)
    desk = office.new_page()
    desk.goto(live_server + "/quan-tri/trao-doi-du-lieu")
    page_url = desk.url
    assert "/dang-nhap" in page_url  # not logged in: to the officials' login, and back
    desk.get_by_label("Tên đăng nhập").fill(username)
    desk.get_by_label("Mật khẩu", exact=True).fill(password)
    desk.get_by_role("button", name="Đăng nhập").click()
    desk.wait_for_url(re.compile(r".*/quan-tri/trao-doi-du-lieu"))
    monitoring = desk.get_by_role("region", name=re.compile("Bảng giám sát"))
    population = monitoring.locator("tbody tr").filter(has_text=POPULATION)
    assert population.count() >= 1
    calls = sum(int(r.locator("td").nth(2).inner_text()) for r in population.all())
    assert calls >= 3  # the form was opened three times, the registry asked each time
    assert population.first.locator("td").nth(3).inner_text() == "0"  # no errors
    rights = desk.get_by_role("region", name=re.compile("Bảng quyền"))
    granted = rights.locator("tbody tr").filter(has_text=POPULATION)
    assert granted.count() >= 1
    _readable(granted.first.get_by_role("button", name=re.compile("Thu hồi")), "nút Thu hồi")
    assert_accessible(desk, context="quản trị nền tảng chia sẻ dữ liệu")
    _no_horizontal_scroll(desk, "quản trị nền tảng chia sẻ dữ liệu")

    # A right for a malformed client id: refused inline, with the expected shape.
    desk.get_by_label(re.compile("Hệ thống được cấp")).fill("MCDT của phường")
    desk.get_by_label("Dịch vụ", exact=True).select_option(value=POPULATION)
    desk.locator("#cap-quyen ~ form").get_by_role("button", name="Cấp quyền").click()
    alert = desk.get_by_role("alert")
    alert.wait_for()
    assert "VN/GOV/<mã cơ quan>/<mã hệ thống>" in alert.inner_text()
    assert desk.get_by_role("heading", level=1).is_visible()  # the page, not an error page
    assert_accessible(desk, context="quản trị chia sẻ dữ liệu: lỗi cấp quyền")
    _shot(desk, "exchange-admin")
    office.close()
