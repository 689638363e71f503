"""Per-request context that must reach logs and the audit log without threading it by hand.

Only correlation data lives here (the request id); who acts is always passed explicitly.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()
