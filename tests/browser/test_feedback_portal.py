"""The feedback portal in a real Chromium (no network: map tiles cannot load): a citizen
files a report with a photo from the phone and a point picked on the map, and lands on the
tracking page; the nearby open report of the same category is hinted and following it works;
the public map shows markers on a blank background with a notice, and the list filters."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import Actor, Role, system_admin
from cityhall.feedback import service as feedback
from cityhall.feedback.schemas import Action, ActionIn, PortalReportIn
from cityhall.identity import service as identity
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WARD = "000.67.40.H29"  # Phường Sài Gòn
POINT = (10.7805, 106.7030)


def _photo(width: int = 160, height: int = 120) -> bytes:
    """A real little PNG (a street-coloured gradient), so previews show something."""
    rows = b"".join(
        b"\x00"
        + b"".join(bytes((90 + x // 2, 110 + y // 2, 80 + (x + y) // 4)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _photo()


def _official(s: Session, username: str, role: Role, agency: str) -> Actor:
    official = identity.create_official(
        s,
        actor=system_admin(),
        data=OfficialCreate(
            username=username,
            full_name=f"Cán bộ {username}",
            password="mat-khau-that-dai-1",
            roles=[RoleGrantIn(role=role, agency_code=agency)],
        ),
    )
    actor = identity.official_as_actor(s, official.id)
    assert actor is not None
    return actor


def seed_reports(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Published reports around Phường Sài Gòn (one of them resolved) and a citizen with a
    browser session. Returns the ids and the session token."""
    settings = get_settings()
    with factory() as s, s.begin():
        moderator = _official(s, "kiemduyet", Role.MODERATOR, "000.00.00.H29")
        officer = _official(s, "dauMoi.saigon", Role.FEEDBACK_OFFICER, WARD)
        neighbour = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090009999", full_name="Lê Văn Hàng Xóm"
        )
        an = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090001234", full_name="Nguyễn Văn An"
        )
        an.phone = "0909123456"
        _, token = identity.open_citizen_session(
            s, citizen=an, kind="browser", settings=settings, method="test"
        )
        ids = []
        samples = (
            ("env.waste", {"volume": "medium"}, 0.0, 0.0, "Rác tồn đọng ở đầu hẻm 12 Lê Lợi."),
            ("light.streetlight", {"condition": "off"}, 0.004, -0.003, "Đèn đường không sáng."),
            ("flood.drain", {}, -0.006, 0.004, "Cống bị tắc, nước không thoát."),
            ("urban.sidewalk", {"kind": "vendor"}, 0.008, 0.006, "Hàng rong chiếm vỉa hè."),
        )
        for code, attributes, dy, dx, text in samples:
            submitted = feedback.submit_portal(
                s,
                actor=identity.citizen_actor(neighbour),
                data=PortalReportIn.model_validate(
                    {
                        "category_code": code,
                        "description": text + " Đề nghị phường xử lý sớm.",
                        "attributes": attributes,
                        "lat": POINT[0] + dy,
                        "long": POINT[1] + dx,
                    }
                ),
                settings=settings,
            )
            feedback.route(s, report_id=submitted.report_id, settings=settings)
            feedback.act(
                s,
                actor=moderator,
                public_id=submitted.public_id,
                action=Action.MODERATE,
                data=ActionIn(approve=True, public_description=text),
                settings=settings,
            )
            ids.append(submitted.public_id)
        resolved = ids[2]  # flood.drain: the ward answers it
        for action, data in (
            (Action.START, ActionIn()),
            (Action.RESOLVE, ActionIn(note="Đã nạo vét cống, nước đã thoát.")),
        ):
            feedback.act(
                s, actor=officer, public_id=resolved, action=action, data=data, settings=settings
            )
    return {"ids": ids, "waste": ids[0], "resolved": resolved, "token": token}


def _no_horizontal_scroll(page, context: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{context}: horizontal scroll ({width}px > {viewport}px)"


def test_a_citizen_files_a_report_with_a_photo_and_a_map_point(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    data = seed_reports(fresh_factory)
    context = browser.new_context(
        locale="vi-VN",
        viewport=PHONE,
        geolocation={"latitude": POINT[0], "longitude": POINT[1]},
        permissions=["geolocation"],
    )
    context.add_cookies([{"name": "ch_session", "value": data["token"], "url": live_server}])
    page = context.new_page()
    page.goto(live_server + "/phan-anh/gui")
    assert_accessible(page, context="biểu mẫu phản ánh")

    # A keyword without diacritics narrows the categories; choosing one brings its questions.
    page.get_by_label("Tìm lĩnh vực theo từ khóa").fill("rac thai")
    page.keyboard.press("Enter")
    page.wait_for_selector("#attr_volume")
    assert page.locator("#category_code").input_value() == "env.waste"
    page.get_by_label("Khối lượng ước tính").select_option("medium")
    page.get_by_label("Nội dung phản ánh").fill(
        "Rác tồn đọng ba ngày ở đầu hẻm 12 Lê Lợi, bốc mùi, chó mèo bới ra đường."
    )
    # The name comes from the e-ID: shown, not asked.
    assert page.locator("#sender").get_by_text("Nguyễn Văn An").is_visible()

    # A photo from the phone: previewed, sent at once.
    page.set_input_files(
        "#photos", files=[{"name": "rac.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.wait_for_selector("#photo-list input[name=photo_sha]", state="attached")
    assert page.locator("#photo-list img").count() == 1
    # A file that is not an image is refused before it is sent.
    page.set_input_files(
        "#photos", files=[{"name": "ghi-chu.txt", "mimeType": "text/plain", "buffer": b"abc"}]
    )
    assert "Chỉ nhận tệp ảnh" in page.locator("#photos-status").inner_text()
    assert page.locator("#photo-list li").count() == 1

    # The point: the map (no tiles here: a notice, the map still works) or the GPS.
    picker = page.locator("#picker")
    picker.wait_for(state="visible")
    page.wait_for_selector("#picker-notice:not([hidden])")
    picker.click(position={"x": 150, "y": 120})
    # Web-first assertions, not wait_for_function: a string predicate is eval'd in the page,
    # which the page's Content-Security-Policy (rightly) refuses.
    expect(page.locator("#lat")).not_to_have_value("")
    page.get_by_role("button", name="Dùng vị trí hiện tại (GPS)").click()
    expect(page.locator("#lat")).to_have_value(re.compile("^" + re.escape(f"{POINT[0]:.4f}")))
    # The open report of the same category nearby is hinted.
    page.wait_for_selector(f"#nearby >> text={data['waste']}")
    assert page.get_by_role("button", name=f"Theo dõi phản ánh này ({data['waste']})").is_visible()
    assert_accessible(page, context="biểu mẫu phản ánh, đã điền")
    _no_horizontal_scroll(page, "biểu mẫu phản ánh (điện thoại)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "feedback-report.png"), full_page=True)

    page.get_by_role("button", name="Gửi phản ánh").click()
    page.wait_for_selector("text=Đã gửi phản ánh thành công")
    assert (
        page.locator(".tracking-link a")
        .inner_text()
        .startswith(live_server + "/phan-anh/theo-doi/")
    )
    assert "Rác tồn đọng ba ngày" in page.content()
    assert page.locator("img[alt^='Ảnh bạn đã gửi']").count() == 1
    assert_accessible(page, context="trang theo dõi phản ánh")
    page.screenshot(path=str(SHOTS / "feedback-tracking.png"), full_page=True)
    context.close()


def test_following_a_nearby_report_instead_of_filing_a_new_one(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    data = seed_reports(fresh_factory)
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    context.add_cookies([{"name": "ch_session", "value": data["token"], "url": live_server}])
    page = context.new_page()
    page.goto(live_server + "/phan-anh/gui?category_code=env.waste")
    page.locator("#lat").fill(f"{POINT[0] + 0.0004:.6f}")
    page.locator("#long").fill(f"{POINT[1]:.6f}")
    page.locator("#long").dispatch_event("change")
    page.wait_for_selector(f"#nearby >> text={data['waste']}")
    page.get_by_role("button", name=f"Theo dõi phản ánh này ({data['waste']})").click()
    page.wait_for_selector("text=Bạn đang theo dõi phản ánh này")
    assert data["waste"] in page.url
    assert_accessible(page, context="trang phản ánh công khai")
    context.close()


def test_the_public_map_without_tiles_shows_markers_and_the_list_filters(  # type: ignore[no-untyped-def]
    live_server: str, fresh_factory, browser
) -> None:
    data = seed_reports(fresh_factory)
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(locale="vi-VN", viewport=size)
        page = context.new_page()
        page.goto(live_server + "/phan-anh")
        page.wait_for_selector("#reports-map[data-markers='4']")
        page.wait_for_selector("#reports-map-notice:not([hidden])")
        assert "nền trống" in page.locator("#reports-map-notice").inner_text()
        pins = page.locator("#reports-map .report-pin, #reports-map .marker-cluster")
        assert pins.count() >= 1
        for public_id in data["ids"]:
            assert public_id in page.locator(".report-list").inner_text()
        assert "Lê Văn Hàng Xóm" not in page.content()
        assert_accessible(page, context=f"bản đồ phản ánh ({name})")
        _no_horizontal_scroll(page, f"bản đồ phản ánh ({name})")
        if name == "desktop":
            page.screenshot(path=str(SHOTS / "feedback-map.png"), full_page=False)
        else:
            page.screenshot(path=str(SHOTS / "feedback-map-phone.png"), full_page=True)

        # Filters work on the server (the list) and the map follows them.
        page.get_by_label("Trạng thái").select_option("closed")
        page.get_by_role("button", name="Lọc").click()
        page.wait_for_selector("#reports-map[data-markers='1']")
        listing = page.locator(".report-list").inner_text()
        assert data["resolved"] in listing
        assert data["waste"] not in listing
        # A marker opens its report.
        page.goto(live_server + f"/phan-anh/{data['resolved']}")
        assert "Đã nạo vét cống, nước đã thoát." in page.content()
        assert_accessible(page, context="một phản ánh công khai")
        context.close()

    # Without JavaScript the list and the filters still work.
    context = browser.new_context(locale="vi-VN", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/phan-anh?status=open")
    listing = page.locator(".report-list").inner_text()
    assert data["waste"] in listing
    assert data["resolved"] not in listing
    assert not page.locator("#reports-map").is_visible()
    context.close()
