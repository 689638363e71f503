"""The schema is defined once: models and migrations must agree, in one straight line."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from cityhall import migrate
from cityhall.models import include_object, metadata


def test_one_head_and_sequential_ids() -> None:
    assert len(migrate.heads()) == 1
    files = sorted(p.name for p in (migrate.MIGRATIONS / "versions").glob("*.py"))
    numbers = [int(m.group(1)) for f in files if (m := re.match(r"(\d{4})_", f))]
    assert numbers == list(range(1, len(numbers) + 1)), files


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; run `cityhall db revision`: {diff}"
