"""The job queue's guarantees: a job exists iff its transaction commits, and a job whose
worker is killed mid-run is retried, not lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhall import jobs
from cityhall.core.notify.models import Notification
from tests.core.conftest import FreshEnv, Mailbox, email, jobs_for


def count_jobs(factory: sessionmaker[Session], marker: int) -> int:
    with factory() as s:
        return int(
            s.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs "
                    "WHERE (args->>'notification_id')::bigint = :m"
                ),
                {"m": marker},
            ).scalar_one()
        )


def test_job_exists_iff_its_transaction_commits(fresh_factory: sessionmaker[Session]) -> None:
    with fresh_factory() as s:
        jobs.defer(s, "notify:send", notification_id=-1)
        assert count_jobs(fresh_factory, -1) == 0  # not visible before commit
        s.rollback()
    assert count_jobs(fresh_factory, -1) == 0

    with fresh_factory() as s:
        job_id = jobs.defer(s, "notify:send", notification_id=-2)
        s.commit()
    assert count_jobs(fresh_factory, -2) == 1
    with fresh_factory() as s:
        status = s.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert status == "todo"


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, env: FreshEnv | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {diagnose(env) if env else ''}")


def diagnose(env: FreshEnv) -> str:
    with env.factory() as s:
        queue = s.execute(
            text(
                "SELECT id, task_name, status::text, attempts, scheduled_at, worker_id "
                "FROM procrastinate_jobs ORDER BY id"
            )
        ).all()
        workers = s.execute(text("SELECT id, last_heartbeat FROM procrastinate_workers")).all()
        backends = s.execute(
            text(
                "SELECT pid, state, wait_event_type, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        notifications = s.execute(
            text("SELECT id, status, attempts, last_error FROM notifications")
        ).all()
    return f"jobs={queue} workers={workers} backends={backends} notifications={notifications}"


def start_worker(env: FreshEnv) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "CITYHALL_DATABASE_URL": env.url,
        "CITYHALL_WORKER_STALLED_SECONDS": "2",
        "CITYHALL_SMTP_HOST": "127.0.0.1",
        "CITYHALL_SMTP_PORT": str(env.settings.smtp_port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cityhall", "worker", "--concurrency", "1"], env=environ
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_killed_worker_leaves_the_job_to_be_retried(
    fresh_env: FreshEnv,
    mailbox: Mailbox,
) -> None:
    mailbox.hold_first = True  # the first delivery hangs in SMTP DATA: the job stays `doing`
    with fresh_env.factory() as s, s.begin():
        notification_id = email(s).id
    [(job_id, _)] = jobs_for_id(fresh_env, notification_id)

    def job_status() -> str:
        [(_, status)] = jobs_for_id(fresh_env, notification_id)
        return status

    first = start_worker(fresh_env)
    try:
        wait_for(
            lambda: job_status() == "doing" and mailbox.holding.is_set(),
            15,
            "job running",
            fresh_env,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    mailbox.release.set()
    assert job_status() == "doing"  # nobody finished it: it would be lost without recovery

    # Let the dead worker's heartbeat go stale (CITYHALL_WORKER_STALLED_SECONDS=2).
    time.sleep(3)
    second = start_worker(fresh_env)
    try:
        wait_for(lambda: job_status() == "succeeded", 15, "job retried and done", fresh_env)
    finally:
        stop(second)

    with fresh_env.factory() as s:
        row = s.get(Notification, notification_id)
        assert row is not None
        assert row.status == "sent"
        attempts = s.execute(
            text("SELECT attempts FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert attempts >= 1
    # Not lost; at most one extra copy (the killed attempt's message may have reached the
    # server), and any copy carries the same Message-ID so the receiver drops it.
    assert 1 <= len(mailbox.messages) <= 2
    assert len({m["Message-ID"] for m in mailbox.messages}) == 1


def jobs_for_id(env: FreshEnv, notification_id: int) -> list[tuple[int, str]]:
    with env.factory() as s:
        return jobs_for(s, notification_id)


def test_the_job_registry_is_built_once_under_concurrent_first_use() -> None:
    """Found by bench/dossiers.py: 32 request threads deferring their first job at once
    built 32 Apps and renamed the tasks, so every later submission failed with a 500."""
    import subprocess
    import sys

    script = (
        "import threading\n"
        "from cityhall import jobs\n"
        "barrier = threading.Barrier(32)\n"
        "apps = []\n"
        "def first():\n"
        "    barrier.wait()\n"
        "    apps.append(jobs.registry())\n"
        "threads = [threading.Thread(target=first) for _ in range(32)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "assert len({id(a) for a in apps}) == 1, len({id(a) for a in apps})\n"
        "print(jobs._task(jobs.registry(), 'notify:send').name)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "notify:send"
