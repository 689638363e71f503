"""Jinja2 for server-rendered pages, with gettext (Vietnamese source, English catalog)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityhall.core.i18n import translations
from cityhall.web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie
from cityhall.web.deps import request_locale

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["localtime"] = _localtime
    return env


def _localtime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in the city's time zone (how Vietnamese forms write dates)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")


def _formatting(gettext: Any) -> Any:
    """``_("Trang %(p)s / %(n)s", p=1, n=3)``: translate, then interpolate (autoescape
    still escapes the whole result, values included)."""

    def _(message: str, **params: Any) -> str:
        text: str = gettext(message)
        return text % params if params else text

    return _


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = request_locale(request)
    env = environment()
    trans = translations(locale)
    template_obj = env.get_template(template)
    token = csrf_token(request)
    values = {
        "request": request,
        "locale": locale,
        "csrf_field": CSRF_FIELD,
        "csrf_token": token,
        "_": _formatting(trans.gettext),
        "gettext": trans.gettext,
        "ngettext": trans.ngettext,
        **(context or {}),
    }
    response = HTMLResponse(template_obj.render(values), status_code=status_code)
    response.headers["Content-Language"] = locale
    response.headers["Cache-Control"] = "no-store"
    set_csrf_cookie(request, response)
    return response
