"""Demo data of the engagement domain, loaded by `cityhall setup --demo`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityhall.config import Settings


def seed(session: Session, settings: Settings) -> int:
    """Load this domain's demo data (idempotent); return how many rows were added."""
    return 0
