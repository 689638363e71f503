"""The citizen-facing shell in a real Chromium: installable (manifest, icons, service worker),
usable offline (the offline page, in Vietnamese), Vietnamese text in our own webfont, and the
pages free of serious accessibility violations (axe-core, WCAG 2.1 AA)."""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhall.core.actors import Role, system_admin
from cityhall.identity import service
from cityhall.identity.schemas import OfficialCreate, RoleGrantIn
from tests.browser.a11y import assert_accessible, axe_violations
from tests.browser.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.browser

FONT = "Be Vietnam Pro"
SAMPLE = "Đăng ký khai sinh — Phường Bến Thành, ữ ỗ ặ"
# Every lower- and upper-case Vietnamese vowel with every tone, and đ/Đ.
VOWELS = "aăâeêioôơuưy"
TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
ALL_LETTERS = " ".join(
    "".join(unicodedata.normalize("NFC", v + t) for t in ("", *TONES))
    for v in VOWELS + VOWELS.upper()
)
OFFLINE_TITLE = "Không có kết nối mạng"

_WAIT_FOR_WORKER = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (worker.state !== "activated") {
    await new Promise((done) => worker.addEventListener("statechange", () => {
      if (worker.state === "activated") done();
    }));
  }
  if (!navigator.serviceWorker.controller) {
    await new Promise((done) =>
      navigator.serviceWorker.addEventListener("controllerchange", done, {once: true}));
  }
  return {state: worker.state, script: worker.scriptURL, scope: registration.scope};
}"""

_CACHED = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
  return out;
}"""


def _official(factory: sessionmaker[Session]) -> tuple[str, str, str]:
    with factory() as s, s.begin():
        service.create_official(
            s,
            actor=system_admin(),
            data=OfficialCreate(
                username="tiepnhan.pwa",
                full_name="Trần Văn Tiếp Nhận",
                password="mat-khau-that-dai-2",
                roles=[RoleGrantIn(role=Role.INTAKE_OFFICER, agency_code="000.00.00.H29")],
            ),
        )
    return "tiepnhan.pwa", "mat-khau-that-dai-2", "Trần Văn Tiếp Nhận"


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(base + "/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/tai-khoan")


def _css_var(css: str, name: str) -> str:
    """A colour custom property of site.css, as #rrggbb."""
    match = re.search(rf"{re.escape(name)}:\s*#([0-9a-fA-F]{{6}}|[0-9a-fA-F]{{3}})\b", css)
    assert match, f"{name} not found in site.css"
    digits = match.group(1).lower()
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_manifest_is_linked_valid_and_its_icons_load(live_server: str, page: Any) -> None:
    page.goto(live_server + "/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/manifest.webmanifest"
    response = page.request.get(live_server + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text())

    assert manifest["name"] == "Hành chính số TP.HCM"
    assert 0 < len(manifest["short_name"]) <= 15
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["lang"] == "vi"
    site_css = page.request.get(live_server + "/static/css/site.css").text()
    assert manifest["theme_color"] == _css_var(site_css, "--brand")
    assert manifest["background_color"] == _css_var(site_css, "--bg")
    theme = page.locator("meta[name=theme-color]").first.get_attribute("content")
    assert theme == manifest["theme_color"]

    kinds = set()
    for icon in manifest["icons"]:
        got = page.request.get(live_server + icon["src"])
        assert got.status == 200, icon["src"]
        assert got.headers["content-type"] == icon["type"] == "image/png"
        width, height = _png_size(got.body())
        assert f"{width}x{height}" == icon["sizes"], icon["src"]
        kinds.add((icon["sizes"], icon.get("purpose", "any")))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= kinds
    for rel in ("icon", "apple-touch-icon"):
        src = page.locator(f"link[rel={rel}]").first.get_attribute("href")
        assert page.request.get(live_server + src).status == 200, rel


def test_service_worker_installs_the_shell_and_serves_the_offline_page(
    live_server: str, browser: Any
) -> None:
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        worker = page.evaluate(_WAIT_FOR_WORKER)
        assert worker == {
            "state": "activated",
            "script": live_server + "/sw.js",
            "scope": live_server + "/",
        }
        sw = page.request.get(live_server + "/sw.js")
        assert sw.headers["content-type"].startswith("text/javascript")
        assert sw.headers["service-worker-allowed"] == "/"
        assert sw.headers["cache-control"] == "no-cache"
        config = json.loads(sw.text().split("\n", 1)[0].removeprefix("self.CITYHALL_SW = ")[:-1])

        cached = page.evaluate(_CACHED)
        assert list(cached) == [f"cityhall-shell-{config['version']}"]
        entries = next(iter(cached.values()))
        assert set(config["shell"]) <= set(entries)
        for needed in ("/offline", "/static/css/site.css", "/static/vendor/htmx.min.js"):
            assert needed in entries
        assert any(e.endswith(".woff2") for e in entries)
        assert any(e.startswith("/static/icons/") for e in entries)
        # Only the shell: no page (not even the one just visited), nothing from the API.
        assert [e for e in entries if not e.startswith("/static/")] == [
            "/offline",
            "/manifest.webmanifest",
        ]

        context.set_offline(True)
        page.goto(live_server + "/dang-nhap")  # never visited: only the worker can answer
        assert page.locator("h1").inner_text() == OFFLINE_TITLE
        assert page.locator("html").get_attribute("lang") == "vi"
        assert page.url == live_server + "/dang-nhap"
        assert "kiểm tra Wi-Fi hoặc dữ liệu di động" in page.locator("main").inner_text()
        # The shell came from the cache: the site's styles and the webfont.
        site_rules = page.evaluate(
            """() => [...document.styleSheets]
              .filter((sheet) => (sheet.href || "").endsWith("/static/css/site.css"))
              .map((sheet) => sheet.cssRules.length)"""
        )
        assert len(site_rules) == 1
        assert site_rules[0] > 0
        page.evaluate("document.fonts.ready")
        assert page.evaluate(f"document.fonts.check('700 16px \"{FONT}\"', {OFFLINE_TITLE!r})")
        screenshot(page, "offline")
        assert_accessible(page, context="trang ngoại tuyến")

        context.set_offline(False)
        page.get_by_role("link", name="Thử lại").click()  # href="": the page asked for
        page.wait_for_url(live_server + "/dang-nhap")
        assert page.locator("h1").inner_text() != OFFLINE_TITLE  # the real page again
    finally:
        context.close()


def test_pages_with_personal_data_are_never_stored(
    live_server: str, fresh_factory: sessionmaker[Session], browser: Any
) -> None:
    username, password, full_name = _official(fresh_factory)
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.evaluate(_WAIT_FOR_WORKER)
        _log_in(page, live_server, username, password)
        assert full_name in page.locator("h1").inner_text()
        page.goto(live_server + "/api/v1/units")  # JSON through the worker, not stored
        page.goto(live_server + "/tai-khoan")

        entries = [e for names in page.evaluate(_CACHED).values() for e in names]
        assert sorted(e for e in entries if not e.startswith("/static/")) == [
            "/manifest.webmanifest",
            "/offline",
        ]

        context.set_offline(True)
        page.goto(live_server + "/tai-khoan")
        assert page.locator("h1").inner_text() == OFFLINE_TITLE
        body = page.locator("body").inner_text()
        assert full_name not in body
        assert username not in body
        assert page.get_by_role("button", name="Đăng xuất").count() == 0  # as if anonymous
    finally:
        context.close()


def test_vietnamese_text_renders_in_the_webfont(live_server: str, page: Any) -> None:
    page.goto(live_server + "/")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith(f'"{FONT}"'), family
    # Probe lines: the sample and every vowel with every tone, in the regular and bold weights
    # (CSSOM styles pass our CSP). Text is NFC, as the server should store it: the subsets'
    # unicode-range (Google Fonts', the same for every family) lacks the combining U+0302,
    # U+0306 and U+031B, so decomposed (NFD) "ă ơ ư ế ỗ" fall back to a system font.
    page.evaluate(
        """([lines]) => {
          const box = document.createElement("section");
          box.id = "font-probe";
          for (const [id, text, weight] of lines) {
            const p = document.createElement("p");
            p.id = id;
            p.textContent = text;
            p.style.fontSize = "28px";
            p.style.fontWeight = weight;
            box.append(p);
          }
          document.querySelector("main").prepend(box);
        }""",
        [
            [
                ["sample-400", SAMPLE, "400"],
                ["sample-700", SAMPLE, "700"],
                ["letters-400", ALL_LETTERS + " đĐ ₫", "400"],
                ["letters-700", ALL_LETTERS + " đĐ ₫", "700"],
            ]
        ],
    )
    page.evaluate("document.fonts.ready")
    for weight in ("400", "700"):
        css = f'{weight} 28px "{FONT}"'
        assert page.evaluate(f"document.fonts.check({css!r}, {SAMPLE!r})"), css
    faces = page.evaluate(
        "[...document.fonts].map((f) => [f.family, f.weight, f.unicodeRange, f.status])"
    )
    vietnamese = [f for f in faces if "U+1EA0-1EF9" in f[2]]
    assert {(f[1], f[3]) for f in vietnamese} == {("400", "loaded"), ("700", "loaded")}, faces

    # What Chromium actually drew each line with: every glyph from our font, none from a
    # fallback (a missing diacritic would show up here as a second, system font).
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for probe in ("sample-400", "sample-700", "letters-400", "letters-700"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"#{probe}"})
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        assert [(f["familyName"], f["isCustomFont"]) for f in fonts] == [(FONT, True)], (
            probe,
            fonts,
        )
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#font-probe").screenshot(path=str(ARTIFACTS / "fonts-vietnamese.png"))
    screenshot(page, "home-webfont")


def test_pages_have_no_serious_accessibility_violations(
    live_server: str, fresh_factory: sessionmaker[Session], page: Any
) -> None:
    username, password, _ = _official(fresh_factory)
    for path, context in (
        ("/", "trang chủ"),
        ("/?lang=en", "trang chủ (English)"),
        ("/dang-nhap", "đăng nhập"),
        ("/offline", "trang ngoại tuyến"),
    ):
        page.goto(live_server + path)
        assert_accessible(page, context=context)

    page.goto(live_server + "/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, context="đăng nhập, sai mật khẩu")

    _log_in(page, live_server, username, password)
    assert_accessible(page, context="tài khoản")


def test_the_accessibility_check_fails_on_a_broken_page(live_server: str, page: Any) -> None:
    """The helper really runs axe under our CSP: an unlabelled field and a nameless button
    (made here, not in a template) fail it, with the rule and the element named."""
    page.goto(live_server + "/dang-nhap")
    page.evaluate(
        """() => {
          const field = document.createElement("input");
          field.id = "broken-field";
          const button = document.createElement("button");
          button.id = "broken-button";
          document.querySelector("main").append(field, button);
        }"""
    )
    ids = {v["id"] for v in axe_violations(page)}
    assert {"label", "button-name"} <= ids
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, context="trang hỏng")
    message = str(failure.value)
    assert "trang hỏng" in message
    assert "[critical] label" in message
    assert "#broken-field" in message
    assert "#broken-button" in message
