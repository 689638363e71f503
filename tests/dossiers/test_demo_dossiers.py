"""The demo data a newcomer sees: dossiers in every state, some overdue."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.demo import seed_accounts
from cityhall.dossiers.demo import seed_dossiers
from cityhall.dossiers.lifecycle import State
from cityhall.dossiers.models import Dossier


def test_demo_dossiers_cover_every_state_and_include_overdue_work(
    session: Session, settings: Settings
) -> None:
    seed_accounts(session, settings)
    created = seed_dossiers(session, settings, [("26740", "saigon")])
    assert created >= 80
    states = dict(
        session.execute(select(Dossier.state, func.count()).group_by(Dossier.state)).all()
    )
    assert set(states) == {s.value for s in State}
    overdue = session.scalar(
        select(func.count()).where(
            Dossier.due_at < datetime.now(UTC),
            Dossier.state.in_(["received", "in_progress", "submitted"]),
        )
    )
    assert overdue
    assert seed_dossiers(session, settings, [("26740", "saigon")]) == 0  # only once
