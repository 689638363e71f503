"""The routing job in a real ``cityhall worker``: a committed report reaches its unit
within seconds, and the time to forward is recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhall.config import get_settings
from cityhall.core.actors import system_admin
from cityhall.feedback import service
from cityhall.feedback.models import Report
from cityhall.identity import service as identity
from tests.feedback.conftest import WARD_A, portal


@pytest.mark.timeout(600)
def test_a_worker_routes_a_committed_report(
    fresh_db: str, fresh_factory: sessionmaker[Session]
) -> None:
    with fresh_factory() as s:
        person = identity.ensure_citizen(
            s, actor=system_admin(), pin="079090007777", full_name="Đỗ Minh Tâm"
        )
        submitted = service.submit_portal(
            s, actor=identity.citizen_actor(person), data=portal(), settings=get_settings()
        )
        s.commit()
    worker = subprocess.Popen(
        [sys.executable, "-m", "cityhall", "worker", "--concurrency", "1"],
        env={**os.environ, "CITYHALL_DATABASE_URL": fresh_db},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        row = None
        while time.monotonic() < deadline:
            with fresh_factory() as s:
                row = s.scalars(select(Report).where(Report.id == submitted.report_id)).one()
            if row.state != "new":
                break
            time.sleep(0.3)
        assert row is not None
        assert (row.state, row.agency_code) == ("assigned", WARD_A)
        assert row.forwarded_at is not None
        # Minutes at most (seconds here, once the worker has started).
        assert (row.forwarded_at - row.received_at).total_seconds() < 300
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
