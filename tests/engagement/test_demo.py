"""Demo ratings: given by the applicants and reporters themselves, idempotent."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhall.config import Settings
from cityhall.engagement import demo
from cityhall.engagement.models import Rating
from tests.dossiers.conftest import Person
from tests.engagement.conftest import Desk, citizen_actor


def test_demo_ratings_are_idempotent_and_tolerate_no_reports(
    session: Session, settings: Settings, citizen: Callable[..., Person], dossier_of, desk: Desk
) -> None:  # type: ignore[no-untyped-def]
    assert demo.seed(session, settings) == 0  # nothing returned or answered yet
    for _ in range(4):
        dossier_of(citizen())
    answered = desk.file(citizen_actor(session, citizen()))
    desk.resolve(answered.public_id)

    added = demo.seed(session, settings)
    assert added >= 1
    assert session.scalar(select(func.count()).select_from(Rating)) == added
    assert demo.seed(session, settings) == 0
    kinds = set(session.scalars(select(Rating.subject_kind)))
    assert kinds <= {"dossier", "report"}
