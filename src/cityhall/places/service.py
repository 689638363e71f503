"""Use cases that change this domain's tables: loading the reference data."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import Table, func, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from cityhall.core import audit
from cityhall.core.actors import SYSTEM, Actor
from cityhall.places.models import AdminUnit, Agency, FormerUnit, UnitSuccession
from cityhall.places.sources import reference_data

log = logging.getLogger(__name__)

# Columns an administrator may fill in; a reload keeps what is already there.
_KEPT_IF_SET = ("address", "phone")


def _upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> int:
    """One ``INSERT … ON CONFLICT DO UPDATE`` for all rows; rows that would not change are
    left alone. Returns how many rows were inserted or updated."""
    if not rows:
        return 0
    stmt = pg_insert(table).values(rows)
    columns = [c for c in rows[0] if c not in keys]
    new_values = {
        c: (func.coalesce(table.c[c], stmt.excluded[c]) if c in _KEPT_IF_SET else stmt.excluded[c])
        for c in columns
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_=new_values,
        where=tuple_(*(table.c[c] for c in columns)).is_distinct_from(tuple_(*new_values.values())),
    )
    # Core execution (not the ORM's bulk path) so that rowcount is reported.
    return session.connection().execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _sync_successions(session: Session, rows: list[dict[str, Any]]) -> int:
    changed = _upsert(session, _table(UnitSuccession), rows, ["former_code", "unit_code"])
    # A pair the sources no longer carry (for a former unit they still carry) is removed.
    removed = session.connection().execute(
        text(
            "DELETE FROM unit_successions s "
            "WHERE s.former_code = ANY(CAST(:formers AS text[])) AND NOT EXISTS ("
            "  SELECT 1 FROM unnest(CAST(:f AS text[]), CAST(:u AS text[])) AS k(f, u)"
            "  WHERE k.f = s.former_code AND k.u = s.unit_code)"
        ).execution_options(preserve_rowcount=True),
        {
            "formers": sorted({r["former_code"] for r in rows}),
            "f": [r["former_code"] for r in rows],
            "u": [r["unit_code"] for r in rows],
        },
    )
    return changed + removed.rowcount


def reference_counts(session: Session) -> dict[str, int]:
    """How many rows of each kind the tables hold."""

    def count(table: type[Any], *where: Any) -> Any:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    row = session.execute(
        select(
            count(AdminUnit, AdminUnit.level == 1).label("provinces"),
            count(AdminUnit, AdminUnit.level == 2).label("units"),
            count(AdminUnit, AdminUnit.kind == "ward").label("wards"),
            count(AdminUnit, AdminUnit.kind == "commune").label("communes"),
            count(AdminUnit, AdminUnit.kind == "special_zone").label("special_zones"),
            count(FormerUnit, literal_column("true")).label("former_units"),
            count(UnitSuccession, literal_column("true")).label("successions"),
            count(Agency, literal_column("true")).label("agencies"),
        )
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def load_reference_data(session: Session, *, actor: Actor = SYSTEM) -> dict[str, int]:
    """Load or update the current units, former units, successions and agencies from the
    installed packages. Idempotent: a second run changes nothing and records nothing.

    Only flushes; the caller commits. Returns the counts of what the tables hold.
    """
    data = reference_data()
    session.flush()  # pending ORM changes first: the loader writes through the connection
    changed = {
        "units": _upsert(session, _table(AdminUnit), [asdict(u) for u in data.units], ["code"]),
        "former_units": _upsert(
            session, _table(FormerUnit), [asdict(f) for f in data.former_units], ["code"]
        ),
        "successions": _sync_successions(session, [asdict(s) for s in data.successions]),
        "agencies": _upsert(session, _table(Agency), [asdict(a) for a in data.agencies], ["code"]),
    }
    session.flush()
    counts = reference_counts(session)
    if any(changed.values()):
        log.info("places reference data loaded: %s changed", changed)
        audit.record(
            session,
            actor=actor,
            action="places.reference_data.loaded",
            object_type="places",
            data={"changed": changed, "counts": counts, "sources": data.versions},
        )
    return counts
