"""Notification jobs (thin: id in, one unit of work, one service call)."""

from __future__ import annotations

import procrastinate

from cityhall.config import get_settings
from cityhall.core.notify.channels import TemporaryDeliveryError, build_channels
from cityhall.core.notify.service import MAX_ATTEMPTS, Outcome, deliver
from cityhall.db import default_engine, session_factory, unit_of_work

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="send",
    retry=procrastinate.RetryStrategy(
        # 4 s, 16 s, 64 s … 4.5 h between attempts: about six hours in all, after which the
        # service marks the row failed (MAX_ATTEMPTS) and the job stops being retried.
        max_attempts=MAX_ATTEMPTS,
        exponential_wait=4,
        retry_exceptions=[TemporaryDeliveryError],
    ),
)
def send(notification_id: int) -> str:
    """Deliver one notification; raise on a temporary failure so that it is retried."""
    with unit_of_work(session_factory(default_engine())) as session:
        delivery = deliver(session, notification_id, build_channels(get_settings(), session))
    # Raised after the commit, so the recorded error and attempt count are kept.
    if delivery.outcome is Outcome.RETRY:
        raise TemporaryDeliveryError(delivery.error or "delivery deferred")
    return delivery.outcome.value
