"""engagement: satisfaction ratings of reports and dossiers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_ref", sa.String(length=60), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=True),
        sa.Column("agency_code", sa.String(length=13), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rater_kind", sa.String(length=10), nullable=False),
        sa.Column("rater_citizen_id", sa.Integer(), nullable=True),
        sa.Column("subject_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changes", sa.SmallInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('very_satisfied', 'satisfied', 'not_satisfied')",
            name=op.f("ck_ratings_level"),
        ),
        sa.CheckConstraint(
            "rater_kind = 'anonymous' OR rater_citizen_id IS NOT NULL",
            name=op.f("ck_ratings_rater_citizen"),
        ),
        sa.CheckConstraint(
            "rater_kind IN ('citizen', 'anonymous')", name=op.f("ck_ratings_rater_kind")
        ),
        sa.CheckConstraint(
            "subject_kind IN ('report', 'dossier')", name=op.f("ck_ratings_subject_kind")
        ),
        sa.ForeignKeyConstraint(
            ["rater_citizen_id"],
            ["citizens.id"],
            name=op.f("fk_ratings_rater_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("subject_kind", "subject_ref", name="uq_ratings_subject"),
    )
    op.create_index("ix_ratings_agency_rated_at", "ratings", ["agency_code", "rated_at"])
    op.create_index(
        "ix_ratings_rated_at",
        "ratings",
        ["rated_at"],
        postgresql_include=["unit_code", "agency_code", "level"],
    )
    op.create_index("ix_ratings_rater_citizen", "ratings", ["rater_citizen_id"])
    op.create_index("ix_ratings_unit_rated_at", "ratings", ["unit_code", "rated_at"])


def downgrade() -> None:
    op.drop_index("ix_ratings_unit_rated_at", table_name="ratings")
    op.drop_index("ix_ratings_rater_citizen", table_name="ratings")
    op.drop_index("ix_ratings_rated_at", table_name="ratings")
    op.drop_index("ix_ratings_agency_rated_at", table_name="ratings")
    op.drop_table("ratings")
