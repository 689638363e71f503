"""Background jobs on PostgreSQL (Procrastinate).

Two rules (docs/adr/0005-jobs.md):

* A job is deferred with :func:`defer` *inside the caller's SQLAlchemy transaction*, by calling
  Procrastinate's own SQL function on the same connection. The job exists if and only if the
  change that caused it commits.
* Tasks are thin: ids in, one unit of work, one service call. Each domain keeps its tasks in
  ``<domain>/jobs.py`` on a :class:`procrastinate.Blueprint` named ``blueprint``, periodic
  ones beside the others, and lists the module in :data:`JOB_MODULES`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate.psycopg_connector import PsycopgConnector
from sqlalchemy import text
from sqlalchemy.orm import Session

from cityhall.config import Settings

log = logging.getLogger(__name__)

JOB_MODULES = (
    "cityhall.jobs_builtin",
    "cityhall.core.notify.jobs",
    "cityhall.exchange.jobs",
    "cityhall.feedback.jobs",
    "cityhall.engagement.jobs",
)


def _build_app() -> procrastinate.App:
    # Built once per process: Procrastinate's add_tasks_from renames the blueprint's own
    # task objects, so a second App built from the same blueprints would rename them again.
    app = procrastinate.App(connector=PsycopgConnector())
    for name in JOB_MODULES:
        module = importlib.import_module(name)
        app.add_tasks_from(module.blueprint, namespace=name.split(".")[-2])
    return app


def _task(app: procrastinate.App, task_name: str) -> Any:
    try:
        return app.tasks[task_name]
    except KeyError:
        raise LookupError(f"unknown job task {task_name!r}") from None


_APP: procrastinate.App | None = None
_APP_LOCK = threading.Lock()


def registry() -> procrastinate.App:
    """The process's one App: tasks are looked up on it, and the worker runs it.

    Built under a lock: request threads make their first ``defer`` at the same moment
    under load, and a second build would rename the shared blueprint tasks again
    (``notify:notify:send``), breaking every later lookup."""
    global _APP
    if _APP is None:
        with _APP_LOCK:
            if _APP is None:
                _APP = _build_app()
    return _APP


def defer(
    session: Session,
    task_name: str,
    *,
    scheduled_at: datetime | None = None,
    queueing_lock: str | None = None,
    **kwargs: Any,
) -> int:
    """Queue ``task_name(**kwargs)`` in the session's transaction; returns the job id."""
    return defer_many(
        session, task_name, [kwargs], scheduled_at=scheduled_at, queueing_lock=queueing_lock
    )[0]


def defer_many(
    session: Session,
    task_name: str,
    arguments: list[dict[str, Any]],
    *,
    scheduled_at: datetime | None = None,
    queueing_lock: str | None = None,
) -> list[int]:
    """Queue one ``task_name`` job per item of ``arguments``, in one statement, in the
    session's transaction; returns the job ids in order."""
    if not arguments:
        return []
    task = _task(registry(), task_name)
    params: dict[str, Any] = {
        "queue": task.queue,
        "task_name": task.name,
        "priority": task.priority,
        "lock": task.lock,
        "queueing_lock": queueing_lock or task.queueing_lock,
        "scheduled_at": scheduled_at.astimezone(UTC) if scheduled_at else None,
    }
    rows = []
    for i, kwargs in enumerate(arguments):
        params[f"args{i}"] = json.dumps(kwargs)
        rows.append(
            "ROW(:queue, :task_name, :priority, :lock, :queueing_lock, "
            f"CAST(:args{i} AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1"
        )
    ids = session.execute(
        text(f"SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[{', '.join(rows)}])) AS id"),
        params,
    ).scalars()
    return [int(i) for i in ids]


async def retry_stalled_jobs(app: procrastinate.App, stalled_seconds: float) -> int:
    """Put back in the queue the jobs whose worker stopped sending heartbeats (killed)."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        log.warning("retrying stalled job", extra={"job_id": job.id, "task": job.task_name})
        await app.job_manager.retry_job(job)
        count += 1
    return count


def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    queues: list[str] | None = None,
    wait: bool = True,
    install_signal_handlers: bool = True,
) -> None:
    """Run a worker until stopped (or, with ``wait=False``, until the queue is empty)."""
    from cityhall.db import libpq_url

    app = registry()
    connector = PsycopgConnector(conninfo=libpq_url(settings))

    # Procrastinate reads a missing queue list as "every queue" (an empty one as none).
    queue_option: dict[str, Any] = {"queues": queues} if queues else {}

    async def main() -> None:
        async with app.open_async():
            # Recover what a killed worker left behind before taking new work.
            await retry_stalled_jobs(app, settings.worker_stalled_seconds)
            await app.run_worker_async(
                concurrency=concurrency or settings.worker_concurrency,
                wait=wait,
                **queue_option,
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=max(1.0, settings.worker_stalled_seconds / 6),
                stalled_worker_timeout=settings.worker_stalled_seconds,
                shutdown_graceful_timeout=30,
            )

    with app.replace_connector(connector):
        asyncio.run(main())
