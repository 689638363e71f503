"""Every user-facing Vietnamese string has its English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from cityhall.core.i18n import LOCALE_DIR, extract_messages, negotiate

SRC = Path(__file__).resolve().parents[1] / "src" / "cityhall"


def test_english_catalog_is_complete() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(extract_messages(SRC) - translated)
    assert missing == [], "run `make messages` and translate locale/en/LC_MESSAGES/messages.po"


def test_language_negotiation() -> None:
    assert negotiate(None) == "vi"
    assert negotiate("en-GB,en;q=0.9") == "en"
    assert negotiate("fr-FR, en;q=0.5, vi;q=0.8") == "vi"
    assert negotiate("fr") == "vi"
    assert negotiate("en;q=0, vi") == "vi"
