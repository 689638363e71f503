"""What the three registry services share: the app skeleton, problem+json errors, the
exchange headers (logged, message id echoed), the optional bearer token, ``/healthz``.

Handlers are plain dict look-ups answering pre-encoded JSON (cached per record), and the
middleware is a bare ASGI callable: a direct call costs a fraction of a millisecond of
server time, so that the exchange's benchmark measures the gateway, not the stand-in.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityhall.config import Settings
from cityhall.core.i18n import N_, negotiate, translate
from cityhall.registries import schemas
from cityhall.registries.synthetic import dumps

PROBLEM = "application/problem+json"
JSON = "application/json"
PROBLEM_BASE = "https://cityhall.hochiminhcity.gov.vn/problems/registry-"
# Paths anyone may read, token or not: liveness, and the description of the service.
PUBLIC_PATHS = ("/healthz", "/openapi.json")
EXCHANGE_HEADERS = {
    b"x-exchange-client": "exchange_client",
    b"x-exchange-message-id": "exchange_message_id",
    b"x-exchange-purpose": "exchange_purpose",
}

_TITLES = {
    400: N_("Yêu cầu không hợp lệ."),
    401: N_("Cần xác thực."),
    404: N_("Không tìm thấy."),
    405: N_("Phương thức không được hỗ trợ."),
    422: N_("Dữ liệu không hợp lệ."),
    500: N_("Đã có lỗi ở phía hệ thống. Vui lòng thử lại sau."),
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.Problem, "description": "Mã tra cứu sai định dạng."},
    401: {"model": schemas.Problem, "description": "Thiếu hoặc sai mã truy cập (nếu bật)."},
    404: {"model": schemas.Problem, "description": "Không có bản ghi."},
}


class RegistryError(Exception):
    """An answer other than 200: ``message`` is a gettext id, ``params`` its values."""

    def __init__(self, status: int, code: str, message: str, /, **params: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.params = params
        super().__init__(message.format(**params) if params else message)


def locale_of(headers: dict[str, str] | Any) -> str:
    return negotiate(headers.get("accept-language"))


def problem_body(
    status: int, code: str, detail: str | None, *, instance: str, locale: str
) -> bytes:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": translate(_TITLES.get(status, _TITLES[400]), locale),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    return dumps(body)


def problem(request: Request, exc: RegistryError) -> Response:
    locale = locale_of(request.headers)
    detail = translate(exc.message, locale, **exc.params)
    body = problem_body(exc.status, exc.code, detail, instance=request.url.path, locale=locale)
    headers = {"Content-Language": locale}
    return Response(body, status_code=exc.status, media_type=PROBLEM, headers=headers)


def json_bytes(body: bytes) -> Response:
    return Response(body, media_type=JSON)


class Cache:
    """Encoded answers, built on first request of each key (the data never changes)."""

    def __init__(self, encode: Callable[[str], bytes | None]) -> None:
        self._encode = encode
        self._cache: dict[str, bytes | None] = {}

    def get(self, key: str) -> bytes | None:
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = self._encode(key)
            if len(self._cache) > 200_000:  # bounded: a crawler cannot fill the memory
                self._cache.clear()
            return value


# --- exception handlers ------------------------------------------------------------------


async def _registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return problem(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error = RegistryError(
            404, "no-such-path", N_("Dịch vụ không có đường dẫn {path}."), path=request.url.path
        )
    elif exc.status_code == 405:
        error = RegistryError(
            405,
            "method-not-allowed",
            N_("Dịch vụ chỉ nhận phương thức GET ở đường dẫn này (nhận được {method})."),
            method=request.method,
        )
    else:
        error = RegistryError(exc.status_code, "error", N_("Yêu cầu không hợp lệ."))
    response = problem(request, error)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
    return problem(
        request,
        RegistryError(422, "invalid-request", N_("Tham số không hợp lệ: {fields}."), fields=fields),
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    logging.getLogger("cityhall.registries").error("unexpected error", exc_info=exc)
    return problem(request, RegistryError(500, "server-error", _TITLES[500]))


# --- middleware ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FastPath:
    """A GET of ``<prefix><key>`` answered straight from ``cache`` when the key is known,
    before FastAPI's routing and parameter handling (which cost more than the look-up
    itself). Unknown keys go on to the FastAPI route, which says precisely what is wrong.
    ``route`` is that route's template, for the log."""

    prefix: str
    route: str
    cache: Cache


class ExchangeMiddleware:
    """For every request: the bearer token (when configured), a structured log line with the
    exchange headers, and ``X-Exchange-Message-Id`` echoed on the response.

    The log names the route template (``/v1/citizens/{pin}``), never the identifier asked
    for: the exchange's message log is where who-asked-for-whom is kept."""

    def __init__(
        self, app: ASGIApp, *, registry: str, token: str | None, fast: list[FastPath]
    ) -> None:
        self.app = app
        self.registry = registry
        self.fast = fast
        self.token = token.encode() if token else None
        self.log = logging.getLogger(f"cityhall.registries.{registry}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        exchange: dict[str, str] = {}
        authorization = b""
        for name, value in scope["headers"]:
            key = EXCHANGE_HEADERS.get(name)
            if key is not None:
                exchange[key] = value.decode("latin-1")[:200]
            elif name == b"authorization":
                authorization = value
        message_id = exchange.get("exchange_message_id")
        status = 500
        route: str | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if message_id is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"x-exchange-message-id", message_id.encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        try:
            if (
                self.token is not None
                and scope["path"] not in PUBLIC_PATHS
                and not self._authorized(authorization, self.token)
            ):
                await self._unauthorized(scope, send_wrapper, bool(authorization))
            else:
                route = await self._fast(scope, send_wrapper)
                if route is None:
                    await self.app(scope, receive, send_wrapper)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                if route is None:
                    route = getattr(scope.get("route"), "path", None) or "(no route)"
                self.log.info(
                    "registry request",
                    extra={
                        "registry": self.registry,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        **exchange,
                    },
                )

    async def _fast(self, scope: Scope, send: Send) -> str | None:
        """Answer a known record directly; None to let FastAPI handle the request."""
        if scope["method"] != "GET" or scope["query_string"]:
            return None
        path: str = scope["path"]
        for fast in self.fast:
            if path.startswith(fast.prefix):
                key = path[len(fast.prefix) :]
                body = fast.cache.get(key) if key and "/" not in key else None
                if body is None:
                    return None
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return fast.route
        return None

    @staticmethod
    def _authorized(authorization: bytes, token: bytes) -> bool:
        scheme, _, value = authorization.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), token)

    async def _unauthorized(self, scope: Scope, send: Send, present: bool) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        locale = locale_of(headers)
        message = (
            N_("Mã truy cập (Bearer) không đúng.")
            if present
            else N_("Cần mã truy cập: gửi tiêu đề Authorization: Bearer <mã>.")
        )
        body = problem_body(
            401, "unauthorized", translate(message, locale), instance=scope["path"], locale=locale
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", PROBLEM.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-language", locale.encode()),
                    (b"www-authenticate", b'Bearer realm="registry"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# --- the app ----------------------------------------------------------------------------


def create_base_app(
    *,
    registry: str,
    title: str,
    description: str,
    settings: Settings,
    seed: int,
    people: int,
    records: Callable[[], int],
    digest: Callable[[], str],
) -> FastAPI:
    """A registry's app with its error handlers, middleware, ``/healthz`` and ``/v1/dataset``;
    the caller adds its routes, and its look-ups by id to ``app.state.fast_paths``."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    token = settings.registry_token.get_secret_value() if settings.registry_token else None
    fast: list[FastPath] = []
    app.add_middleware(ExchangeMiddleware, registry=registry, token=token, fast=fast)
    app.state.fast_paths = fast
    cached: dict[str, bytes] = {}

    @app.get("/healthz", response_model=None, responses={200: {"model": schemas.Health}})
    async def healthz() -> Response:
        body = dumps(
            {
                "status": "ok",
                "registry": registry,
                "synthetic": True,
                "seed": seed,
                "people": people,
                "records": records(),
            }
        )
        return json_bytes(body)

    @app.get(
        "/v1/dataset",
        response_model=None,
        responses={200: {"model": schemas.DatasetInfo}},
        summary="Tóm tắt bộ dữ liệu tổng hợp (để kiểm tra tính tái lập)",
    )
    def dataset() -> Response:
        if "body" not in cached:
            cached["body"] = dumps(
                {
                    "registry": registry,
                    "seed": seed,
                    "people": people,
                    "records": records(),
                    "sha256": digest(),
                }
            )
        return json_bytes(cached["body"])

    describe_problems(app)
    app.state.registry = registry
    return app


def describe_problems(app: FastAPI) -> None:
    """Say in the OpenAPI document what the errors really are: ``application/problem+json``
    documents (FastAPI would announce ``application/json``, and its own shape for 422)."""
    generate = app.openapi
    problem_ref = {"$ref": "#/components/schemas/Problem"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45":
                        response["content"] = {PROBLEM: {"schema": problem_ref}}
        spec.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        spec.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
