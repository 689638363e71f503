"""Translations. Vietnamese is the source language; English comes from a Babel catalog.

Catalogs live in ``cityhall/locale/<lang>/LC_MESSAGES/messages.po``; the compiled ``.mo``
files are build products (``make`` compiles them), and are compiled here on first use when
missing or stale so a fresh checkout never serves untranslated English.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = ("vi", "en")
# Calls whose (first, unless noted) argument is a user-facing message id.
EXTRACT_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "N_": None,
    "_": None,
    "gettext": None,
    "translate": (1,),
    "Invalid": (1,),
    "NotFound": (1,),
    "Forbidden": (1,),
    "Unauthenticated": (1,),
    "Conflict": (1,),
    "TooManyRequests": (1,),
    "FieldError": (2,),
}
DEFAULT = "vi"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for extraction without translating it here (translated at the edge)."""
    return message


def compile_catalogs() -> list[Path]:
    """Compile every stale ``.po`` into its ``.mo``. Returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        with mo.open("wb") as out:
            write_mo(out, catalog)
        written.append(mo)
    return written


@lru_cache(maxsize=len(SUPPORTED))
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT:
        return gettext.NullTranslations()
    compile_catalogs()
    return gettext.translation("messages", LOCALE_DIR, languages=[locale], fallback=True)


def translate(message: str, locale: str, **params: Any) -> str:
    text = translations(locale).gettext(message) if locale in SUPPORTED else message
    return text.format(**params) if params else text


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """Pick the best supported language from an Accept-Language header (RFC 9110 q-values)."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in SUPPORTED and quality > 0:
            choices.append((-quality, index, primary))
        elif tag == "*" and quality > 0:
            choices.append((-quality, index, default))
    return sorted(choices)[0][2] if choices else default


def extract_messages(source: Path) -> set[str]:
    """Every message id under ``source`` (Python and Jinja2 templates)."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(source), method_map=method_map, keywords=EXTRACT_KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found
