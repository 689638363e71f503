"""Render the Alembic operations that create the given tables (for hand-assembled migrations).

Usage: python scripts/render_migration.py <revision-to-start-from> <table> [<table> ...]
Creates a scratch database, migrates it to the revision, and prints upgrade ops for the
tables named, so a domain can write its migration while others write theirs in parallel.
"""

from __future__ import annotations

import secrets
import sys

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext

from cityhall import migrate
from cityhall.config import get_settings
from cityhall.db import create_database, drop_database, ensure_database, make_engine
from cityhall.models import metadata


def _table_of(obj: object) -> str | None:
    table = getattr(obj, "table", None)
    return None if table is None else str(table.name)


def main() -> None:
    start, tables = sys.argv[1], set(sys.argv[2:])
    base = ensure_database(get_settings())
    from sqlalchemy.engine import make_url

    url = make_url(base).set(database=f"scratch_{secrets.token_hex(4)}").render_as_string(False)
    create_database(url)
    try:
        migrate.upgrade(url, start)
        engine = make_engine(url, pool_size=1)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    # The whole metadata (so foreign keys to other domains resolve), but
                    # only the named tables and what belongs to them are compared.
                    "include_object": lambda o, n, t, r, c: (
                        (n in tables) if t == "table" else (_table_of(o) in tables)
                    ),
                },
            )
            print(render_python_code(produce_migrations(ctx, metadata).upgrade_ops))
            print("# --- downgrade ---")
            print(render_python_code(produce_migrations(ctx, metadata).downgrade_ops))
        engine.dispose()
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
