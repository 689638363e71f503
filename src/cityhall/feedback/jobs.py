"""Background jobs of the feedback domain (thin: ids in, one unit of work, one service call)."""

from __future__ import annotations

import procrastinate

from cityhall.config import get_settings
from cityhall.db import default_engine, session_factory, unit_of_work
from cityhall.feedback import service

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="route",
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
def route(report_id: int) -> bool:
    """Route one new report to the responsible unit (or the dispatch queue)."""
    with unit_of_work(session_factory(default_engine())) as session:
        return service.route(session, report_id=report_id, settings=get_settings())


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="escalate_overdue", queueing_lock="feedback_escalate_overdue")
def escalate_overdue(timestamp: int) -> int:
    """Every five minutes: flag overdue reports and tell the units' heads."""
    with unit_of_work(session_factory(default_engine())) as session:
        return service.escalate_overdue(session, settings=get_settings())
