"""One pure-ASGI middleware for what every response needs: request id, access log,
metrics, security headers, and a same-origin check on state-changing browser requests."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityhall.core.context import new_request_id, request_id_var

log = logging.getLogger("cityhall.access")

REQUESTS = Counter(
    "cityhall_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram(
    "cityhall_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(self)",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}
# The interactive API docs load their assets from a CDN; keep them working without
# loosening the policy of every other page.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https:; frame-ancestors 'none'"
)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_VALID_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and set(incoming) <= _VALID_ID else new_request_id()
        )
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}
        path: str = scope["path"]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                out = MutableHeaders(scope=message)
                out["x-request-id"] = request_id
                for key, value in SECURITY_HEADERS.items():
                    if key not in out:
                        out[key] = value
                if path in ("/docs", "/redoc"):
                    out["content-security-policy"] = DOCS_CSP
                if self.hsts:
                    out["strict-transport-security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        try:
            if scope["method"] in UNSAFE_METHODS and not _same_origin(headers):
                await _forbidden_origin(send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            status = status_holder["status"]
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            if path not in ("/healthz", "/metrics"):
                log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)


def _same_origin(headers: Headers) -> bool:
    """Browsers send Origin on cross-site POSTs; reject those whose host differs from ours.

    Requests without Origin (API clients, curl) pass here: they carry no ambient cookies that
    the API honours, and page forms are additionally protected by CSRF tokens.
    """
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    host = headers.get("host", "")
    return urlsplit(origin).netloc == host


async def _forbidden_origin(send: Send) -> None:
    body = json.dumps(
        {
            "type": "https://cityhall.hochiminhcity.gov.vn/problems/cross-origin",
            "title": "Yêu cầu từ nguồn không được phép.",
            "status": 403,
            "code": "cross-origin",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
