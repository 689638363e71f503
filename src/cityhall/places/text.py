"""Small text helpers for Vietnamese names."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean(name: str) -> str:
    """Collapse runs of whitespace (the sources have a few double spaces) and trim."""
    return _SPACES.sub(" ", name).strip()


def fold(text: str) -> str:
    """Remove diacritics: ``"Phường Bến Thành"`` -> ``"Phuong Ben Thanh"``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_prefix(name: str, prefix: str) -> str:
    """``strip_prefix("Phường Bến Thành", "phường")`` -> ``"Bến Thành"`` (case-insensitive)."""
    if prefix and name.lower().startswith(prefix.lower() + " "):
        return name[len(prefix) + 1 :].strip()
    return name
