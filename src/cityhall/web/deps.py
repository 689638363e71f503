"""Dependencies shared by every route. Imports no domain (domains import this)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import Settings
from cityhall.core.i18n import negotiate


async def get_settings_dep(request: Request) -> Settings:
    # async: no I/O, so FastAPI need not hand it to the thread pool.
    settings: Settings = request.app.state.settings
    return settings


def request_locale(request: Request) -> str:
    cached = request.scope.get("cityhall.locale")
    if isinstance(cached, str):
        return cached
    default = request.app.state.settings.default_locale
    lang = request.query_params.get("lang")
    locale = negotiate(lang or request.headers.get("accept-language"), default)
    request.scope["cityhall.locale"] = locale
    return locale


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back on error."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
Locale = Annotated[str, Depends(request_locale)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
