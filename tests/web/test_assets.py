"""What a page makes the browser download, and what it weighs.

The budget (issue 4, item 5): all the JavaScript and CSS of a page, gzip-compressed, under
150 KB. Add a page to ``PAGES`` when it gets its own scripts or styles.
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

BUDGET = 150_000  # bytes, gzip level 9, JavaScript + CSS of one page
PAGES = (
    "/",
    "/dang-nhap",
    "/thu-tuc",
    "/thu-tuc?q=khai+sinh",
    "/thu-tuc/1.001193",
    "/tra-cuu",
)
# Script types a browser does not run, so the CSP's ban on inline script does not concern them.
DATA_SCRIPTS = {"application/json", "application/ld+json"}
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s]+)""")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.links: list[str] = []  # every <link href>: stylesheets, preloads, icons, manifest
        self.inline: list[str] = []  # what the CSP would block: inline script, style, style=""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "style" in a:
            self.inline.append(f'<{tag} style="{a["style"]}">')
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            elif a.get("type", "") not in DATA_SCRIPTS:
                self._in_script = True
        elif tag == "style":
            self.inline.append("<style>")
        elif tag == "link" and a.get("href"):
            self.links.append(a["href"])
            if "stylesheet" in a.get("rel", "").split():
                self.stylesheets.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:60]}")


def _parse(client: TestClient, path: str) -> _Page:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parsed = _Page()
    parsed.feed(response.text)
    return parsed


def _local(url: str) -> str:
    parts = urlsplit(url)
    assert not parts.netloc, f"{url}: third-party URL (everything is served by us)"
    return parts.path


def _fetch(client: TestClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (
        f"{url}: HTTP {response.status_code} (vendored files come from `make setup`)"
    )
    return response.content


def _page_assets(client: TestClient, path: str) -> dict[str, bytes]:
    """Every script and stylesheet of the page, with the stylesheets' @imports."""
    page = _parse(client, path)
    assets: dict[str, bytes] = {}
    queue = [(_local(urljoin(path, s)), "css") for s in page.stylesheets]
    queue += [(_local(urljoin(path, s)), "js") for s in page.scripts]
    while queue:
        url, kind = queue.pop(0)
        if url in assets:
            continue
        assets[url] = body = _fetch(client, url)
        if kind == "css":
            for imported in CSS_IMPORT.findall(body.decode("utf-8")):
                queue.append((_local(urljoin(url, imported)), "css"))
    return assets


def _gzip_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9, mtime=0))


@pytest.mark.parametrize("path", PAGES)
def test_page_javascript_and_css_stay_under_the_budget(client: TestClient, path: str) -> None:
    assets = _page_assets(client, path)
    sizes = {url: (len(body), _gzip_size(body)) for url, body in assets.items()}
    total = sum(gz for _, gz in sizes.values())
    table = "\n".join(
        f"  {gz:>8,} B gzip  {raw:>9,} B raw  {url}"
        for url, (raw, gz) in sorted(sizes.items(), key=lambda item: -item[1][1])
    )
    report = f"{path}: {total:,} B of JavaScript + CSS (gzip -9), budget {BUDGET:,} B\n{table}"
    print(report)
    assert total < BUDGET, report
    # The shared head is there: the site's styles, the fonts, htmx and the worker's registration.
    for needed in (
        "/static/css/site.css",
        "/static/vendor/fonts.css",
        "/static/vendor/htmx.min.js",
        "/static/js/register-sw.js",
    ):
        assert needed in assets, f"{path} does not load {needed}"


@pytest.mark.parametrize("path", PAGES)
def test_every_linked_file_is_served(client: TestClient, path: str) -> None:
    """Preloaded fonts, icons, the manifest: a renamed file must not become a silent 404."""
    page = _parse(client, path)
    for href in page.links + page.scripts:
        _fetch(client, _local(urljoin(path, href)))
    fonts_css = _fetch(client, "/static/vendor/fonts.css").decode("utf-8")
    font_files = re.findall(r"url\(([^)]+\.woff2)\)", fonts_css)
    assert font_files, "fonts.css names no woff2 file"
    for font in font_files:
        assert _fetch(client, urljoin("/static/vendor/fonts.css", font))[:4] == b"wOF2", font


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_or_style(client: TestClient, path: str) -> None:
    """The CSP (script-src/style-src 'self') would block them: they would silently not work."""
    assert _parse(client, path).inline == []


def test_manifest_service_worker_and_offline_page_are_served_from_the_root(
    client: TestClient,
) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = json.loads(manifest.content)
    assert (data["name"], data["start_url"], data["display"], data["lang"]) == (
        "Hành chính số TP.HCM",
        "/",
        "standalone",
        "vi",
    )

    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    first_line = worker.text.split("\n", 1)[0]
    config = json.loads(first_line.removeprefix("self.CITYHALL_SW = ").removesuffix(";"))
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert config["offline"] == "/offline"
    assert worker.text == client.get("/sw.js").text  # stable between requests
    # The shell is static files, the manifest and the offline page: never a page with data.
    pages = [url for url in config["shell"] if not url.startswith("/static/")]
    assert pages == ["/offline", "/manifest.webmanifest"]
    for url in config["shell"]:
        assert client.get(url).status_code == 200, url
    assert any(url.endswith(".woff2") for url in config["shell"])

    offline = client.get("/offline")
    assert offline.status_code == 200
    assert offline.headers["x-robots-tag"] == "noindex"
    assert "Không có kết nối mạng" in offline.text
    assert '<html lang="vi">' in offline.text
