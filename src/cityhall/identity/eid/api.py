"""The development provider's ASGI app: discovery, JWKS, token and userinfo endpoints, and
the authorization page (``pages``). Run by ``cityhall eid serve``; refuses production."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityhall.config import Settings, get_settings
from cityhall.identity.eid import pages
from cityhall.identity.eid.provider import Client, Provider, TokenError, load_or_create_key
from cityhall.identity.oidc import redirect_uri

SITE_CSS = Path(__file__).resolve().parents[2] / "web" / "static" / "css" / "site.css"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


async def discovery(request: Request) -> Response:
    return JSONResponse(_provider(request).metadata(), headers={"Cache-Control": "max-age=300"})


async def jwks(request: Request) -> Response:
    return JSONResponse(_provider(request).jwks(), headers={"Cache-Control": "max-age=300"})


def _token_error(exc: TokenError, *, scheme: str) -> Response:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        if scheme == "Bearer":
            headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
        else:
            headers["WWW-Authenticate"] = 'Basic realm="eid-dev"'
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def token(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _token_error(
            TokenError("invalid_request", "the body must be application/x-www-form-urlencoded"),
            scheme="Basic",
        )
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        body = _provider(request).exchange(values, request.headers.get("authorization"))
    except TokenError as exc:
        return _token_error(exc, scheme="Basic")
    return JSONResponse(body, headers=_NO_STORE)


async def userinfo(request: Request) -> Response:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    access_token = value.strip() if scheme.lower() == "bearer" else None
    try:
        claims = _provider(request).userinfo(access_token)
    except TokenError as exc:
        return _token_error(exc, scheme="Bearer")
    return JSONResponse(claims, headers=_NO_STORE)


async def stylesheet(request: Request) -> Response:
    return FileResponse(SITE_CSS, media_type="text/css")


# What the provider's pages add to the portal's stylesheet.
EID_CSS = """header.site .brand { color: #fff; }
fieldset ul.results label { display: flex; gap: .5rem; align-items: center; }
"""


async def own_stylesheet(request: Request) -> Response:
    return Response(EID_CSS, media_type="text/css")


class _SecurityHeaders:
    """What every response of the provider carries: no framing, no sniffing, no caching of
    pages, and forms that may only go to the provider itself or back to a client."""

    def __init__(self, app: ASGIApp, *, form_targets: list[str]) -> None:
        self.app = app
        self.csp = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
            f"form-action 'self' {' '.join(form_targets)}; frame-ancestors 'none'"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                    b"content-security-policy": self.csp.encode(),
                    b"cache-control": b"no-store",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def create_app(
    settings: Settings | None = None,
    *,
    issuer: str | None = None,
    code_ttl: float = 60.0,
    extra_redirect_uris: tuple[str, ...] = (),
) -> Starlette:
    """The provider, with the portal of ``settings`` as its one registered client."""
    settings = settings or get_settings()
    if settings.environment == "production":
        raise RuntimeError(
            "the development e-ID provider never runs in production "
            "(CITYHALL_ENVIRONMENT=production): point CITYHALL_EID_ISSUER at VNeID"
        )
    client = Client(
        client_id=settings.eid_client_id,
        client_secret=settings.resolved_eid_client_secret(),
        redirect_uris=(redirect_uri(settings), *extra_redirect_uris),
    )
    provider = Provider(
        issuer=issuer or settings.eid_issuer,
        key=load_or_create_key(settings.data_dir),
        clients=[client],
        code_ttl=code_ttl,
    )
    app = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/jwks", jwks, methods=["GET"]),
            Route("/authorize", pages.authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/site.css", stylesheet, methods=["GET"]),
            Route("/eid.css", own_stylesheet, methods=["GET"]),
        ]
    )
    app.state.provider = provider
    app.state.csrf_key = secrets.token_urlsafe(32)
    targets = sorted({_origin(uri) for uri in client.redirect_uris})
    app.add_middleware(_SecurityHeaders, form_targets=targets)
    return app


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def describe(app: Starlette) -> str:
    """One line for the console: issuer, client and where the key lives."""
    provider: Provider = app.state.provider
    client = next(iter(provider.clients.values()))
    return json.dumps(
        {
            "issuer": provider.issuer,
            "client_id": client.client_id,
            "redirect_uris": list(client.redirect_uris),
            "kid": provider.key.kid,
        },
        ensure_ascii=False,
    )
