"""job queue: Procrastinate's schema

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Procrastinate ships its schema as SQL; we apply it here so that migrations stay the only way
the schema changes. Upgrading Procrastinate means adding a migration that runs its
``sql/migrations`` files for the versions in between (docs/adr/0005-jobs.md).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    for table in (
        "procrastinate_periodic_defers",
        "procrastinate_events",
        "procrastinate_jobs",
        "procrastinate_workers",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute(
        "DO $$ DECLARE r record; BEGIN "
        "FOR r IN SELECT oid::regprocedure AS sig FROM pg_proc "
        "WHERE proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || r.sig || ' CASCADE'; "
        "END LOOP; "
        "FOR r IN SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%' AND typtype IN ('e','c') "
        "LOOP EXECUTE 'DROP TYPE IF EXISTS ' || r.typname || ' CASCADE'; END LOOP; END $$"
    )
