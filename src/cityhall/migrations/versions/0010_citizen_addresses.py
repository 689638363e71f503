"""citizen addresses (from the e-ID login)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:32:13.185816
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_addresses",
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=300), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "unit_code ~ '^[0-9]{5}$'", name=op.f("ck_citizen_addresses_unit_code_format")
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_citizen_addresses_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("citizen_id", name=op.f("pk_citizen_addresses")),
    )


def downgrade() -> None:
    op.drop_table("citizen_addresses")
