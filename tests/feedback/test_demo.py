"""The demo feedback: a few hundred reports in varied states, seeded once."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.feedback import demo
from cityhall.feedback.models import Report


@pytest.mark.timeout(600)
def test_demo_reports_are_varied_and_seeded_once(session: Session, settings: Settings) -> None:
    started = time.monotonic()
    made = demo.seed(session, settings)
    elapsed = time.monotonic() - started
    assert made >= 180
    states = Counter(session.scalars(select(Report.state)).all())
    assert {"assigned", "in_progress", "resolved", "rejected", "merged"} <= set(states)
    moderation = Counter(session.scalars(select(Report.moderation)).all())
    assert moderation["approved"] > moderation["pending"] > 0
    assert demo.seed(session, settings) == 0
    assert elapsed < 300, elapsed  # ~20 s on an idle machine
