"""Platform-wide periodic jobs."""

from __future__ import annotations

import procrastinate

from cityhall.config import get_settings

blueprint = procrastinate.Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every minute: requeue jobs of workers that died (no heartbeat)."""
    from cityhall.jobs import retry_stalled_jobs

    assert context.app is not None
    return await retry_stalled_jobs(context.app, get_settings().worker_stalled_seconds)
