"""Accessibility checks in the real browser with axe-core (vendored from npm at setup).

``assert_accessible(page, context="trang chủ")`` runs axe on the page as it is now, with the
WCAG 2.0/2.1 A and AA rules, and fails listing every serious or critical violation: the rule,
what it asks for, and the elements (CSS selectors) that break it.

How axe gets into a page under our CSP (``script-src 'self'``, no inline script):

- ``page.add_script_tag(path=...)`` does NOT work: Playwright inserts the file's text as an
  inline ``<script>``, which the CSP blocks ("Executing inline script violates ...").
- ``page.add_script_tag(url="/static/vendor/axe.min.js")`` works (same origin), but only where
  the app serves the file, and it goes through the service worker's cache.
- ``page.evaluate(source)`` works everywhere: Playwright evaluates over the DevTools protocol,
  which the page's CSP does not govern. That is what this helper does, so no test needs
  ``bypass_csp=True`` (which would also hide real CSP breakage from the tests).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "src" / "cityhall" / "web" / "static" / "vendor"
AXE_JS = VENDOR / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING = ("serious", "critical")

_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make setup` (it vendors axe-core from npm)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Any, *, tags: tuple[str, ...] = WCAG_21_AA) -> list[dict[str, Any]]:
    """Every axe violation on the page (all impacts), as plain dicts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations: list[dict[str, Any]] = page.evaluate(_RUN, list(tags))
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        lines += [f"    {n['target']}: {' / '.join(n['summary'].splitlines())}" for n in v["nodes"]]
    return "\n".join(lines)


def assert_accessible(page: Any, *, context: str, impacts: tuple[str, ...] = BLOCKING) -> None:
    """Fail if axe finds a WCAG 2.1 AA violation of one of ``impacts`` on the page."""
    found = [v for v in axe_violations(page) if v["impact"] in impacts]
    assert not found, (
        f"{context} ({page.url}): {len(found)} accessibility violation(s)\n"
        + format_violations(found)
    )
