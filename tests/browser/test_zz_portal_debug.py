import pytest
from tests.browser.test_feedback_portal import PHONE, PNG, POINT, seed_reports

pytestmark = pytest.mark.browser

WIDE = """() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_debug(live_server, fresh_factory, browser):  # type: ignore[no-untyped-def]
    data = seed_reports(fresh_factory)
    context = browser.new_context(locale="vi-VN", viewport=PHONE, geolocation={"latitude": POINT[0], "longitude": POINT[1]}, permissions=["geolocation"])
    context.add_cookies([{"name": "ch_session", "value": data["token"], "url": live_server}])
    page = context.new_page()
    page.goto(live_server + "/phan-anh/gui")
    print("A", page.evaluate(WIDE))
    page.get_by_label("Tìm lĩnh vực theo từ khóa").fill("rac thai")
    page.keyboard.press("Enter")
    page.wait_for_selector("#attr_volume")
    print("B", page.evaluate(WIDE))
    page.set_input_files("#photos", files=[{"name": "rac.png", "mimeType": "image/png", "buffer": PNG}])
    page.wait_for_selector("#photo-list input[name=photo_sha]", state="attached")
    print("C", page.evaluate(WIDE))
    page.get_by_role("button", name="Dùng vị trí hiện tại (GPS)").click()
    page.wait_for_selector(f"#nearby >> text={data['waste']}")
    print("D", page.evaluate(WIDE))
    page.screenshot(path="/tmp/dbg-filled.png", full_page=True)
    context.close()
