from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cityhall.places.service import load_reference_data


@pytest.fixture
def reference(session: Session) -> dict[str, int]:
    """The reference data, loaded into the test's (rolled-back) transaction."""
    counts = load_reference_data(session)
    session.commit()
    return counts
