"""Background jobs of the exchange (thin: one unit of work, one service call)."""

from __future__ import annotations

import procrastinate

from cityhall.config import get_settings
from cityhall.db import default_engine, session_factory, unit_of_work
from cityhall.exchange.gateway import purge_replay_guard

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(name="purge_replay_guard", queueing_lock="exchange_purge_replay_guard")
def purge(timestamp: int) -> int:
    """Every five minutes: forget message ids and rate windows too old to matter (a
    message older than the freshness window is refused as stale anyway)."""
    with unit_of_work(session_factory(default_engine())) as session:
        return purge_replay_guard(session, get_settings())
