"""The feedback domain's write path: intake from every channel, routing, handling, the
reporter's reopening and following, escalation, Open311 API keys.

Each use case is one function taking ``session, *, actor, ...``; it flushes, never
commits. See docs/domains/feedback.md.
"""

from cityhall.feedback.service.clients import (
    authenticate_api_key,
    create_api_key,
    revoke_api_key,
)
from cityhall.feedback.service.handling import HANDLERS, act, escalate_overdue, follow, reopen
from cityhall.feedback.service.intake import (
    ROUTE_TASK,
    check_attributes,
    store_photo,
    submit_hotline,
    submit_open311,
    submit_portal,
)
from cityhall.feedback.service.routing import route

__all__ = [
    "HANDLERS",
    "ROUTE_TASK",
    "act",
    "authenticate_api_key",
    "check_attributes",
    "create_api_key",
    "escalate_overdue",
    "follow",
    "reopen",
    "revoke_api_key",
    "route",
    "store_photo",
    "submit_hotline",
    "submit_open311",
    "submit_portal",
]
