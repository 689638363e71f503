"""Read-only aggregates of dossiers for the public rankings (no personal data): how many
dossiers each ward or agency returned in a period, and how many of them on time.

"On time" is against the first appointment date: a dossier whose date was moved by an
apology (Form 04) was late, whatever the new date says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityhall.dossiers.lifecycle import State
from cityhall.dossiers.models import Dossier


@dataclass(frozen=True)
class OnTime:
    finished: int  # results returned in the period
    on_time: int  # of which by the first appointment date

    @property
    def rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None


def on_time_by(
    session: Session,
    *,
    by: Literal["unit", "agency"],
    start: datetime,
    end: datetime,
) -> dict[str, OnTime]:
    """Dossiers whose result was returned in ``[start, end)``, per ward (``unit``: the unit
    code handling them, "79" for the city) or per competent agency."""
    key = Dossier.unit_code if by == "unit" else Dossier.competent_agency_code
    deadline = func.coalesce(Dossier.original_due_at, Dossier.due_at)
    rows = session.execute(
        select(
            key,
            func.count(),
            func.count(case((Dossier.returned_at <= deadline, 1))),
        )
        .where(
            Dossier.state == State.RETURNED.value,
            Dossier.returned_at >= start,
            Dossier.returned_at < end,
        )
        .group_by(key)
    ).all()
    return {str(k): OnTime(int(n), int(ok)) for k, n, ok in rows}


def returned_dossiers(session: Session, *, limit: int = 1000) -> list[tuple[str, int]]:
    """(code, applicant citizen id) of returned dossiers of registered citizens, oldest
    first: what the demo data rates."""
    rows = session.execute(
        select(Dossier.code, Dossier.applicant_citizen_id)
        .where(Dossier.state == State.RETURNED.value, Dossier.applicant_citizen_id.is_not(None))
        .order_by(Dossier.returned_at, Dossier.id)
        .limit(limit)
    ).all()
    return [(str(code), int(cid)) for code, cid in rows if cid is not None]
