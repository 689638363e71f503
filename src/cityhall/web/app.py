"""The application factory: ``create_app()`` for uvicorn, ``create_app(settings, factory)``
for tests (which hand in a session factory bound to a rolled-back transaction)."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from cityhall import __version__
from cityhall.config import Settings, get_settings
from cityhall.web import ops, problems
from cityhall.web.middleware import EdgeMiddleware

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Each domain contributes an ``api.py`` (JSON under /api/v1) and maybe a ``pages.py``.
ROUTERS = (
    "cityhall.places.api",
    "cityhall.catalog.api",
    "cityhall.catalog.pages",
    "cityhall.dossiers.api",
    "cityhall.dossiers.pages",
    "cityhall.dossiers.own_pages",
    "cityhall.dossiers.office_pages",
    "cityhall.web.admin_pages",
    "cityhall.web.pwa",
    "cityhall.identity.api",
    "cityhall.identity.pages",
    "cityhall.identity.citizen_pages",
    "cityhall.exchange.api",
    "cityhall.exchange.pages",
    "cityhall.feedback.api",
    "cityhall.feedback.pages",
    "cityhall.engagement.api",
    "cityhall.engagement.pages",
    "cityhall.web.calendar_api",
    "cityhall.web.blobs_api",
)


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    settings = settings or get_settings()
    settings.resolved_secret_key()  # fail fast in production without a key
    if session_factory is None:
        from cityhall.db import default_engine
        from cityhall.db import session_factory as make_factory

        session_factory = make_factory(default_engine())
    app = FastAPI(
        title="cityhall API",
        version=__version__,
        description=(
            "API của Trung tâm hành chính số TP. Hồ Chí Minh. Lỗi trả về dạng "
            "`application/problem+json` (RFC 9457); tiếng Anh khi gửi `Accept-Language: en`."
        ),
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    problems.install(app)
    app.include_router(ops.router)
    for name in ROUTERS:
        module = importlib.import_module(name)
        app.include_router(module.router)
        # A domain that needs the app itself (its session factory, say) says so.
        install = getattr(module, "install", None)
        if install is not None:
            install(app)
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(EdgeMiddleware, hsts=settings.base_url.startswith("https://"))
    return app
