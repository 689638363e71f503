"""Settings that depend on each other."""

from __future__ import annotations

from cityhall.config import Settings


def test_base_url_follows_the_port_unless_set() -> None:
    # `CITYHALL_PORT=8031 make run`: links and the e-ID redirect must point at 8031.
    assert Settings(port=8031).base_url == "http://127.0.0.1:8031"
    assert Settings(port=8031, base_url="https://dichvucong.hochiminhcity.gov.vn").base_url == (
        "https://dichvucong.hochiminhcity.gov.vn"
    )
