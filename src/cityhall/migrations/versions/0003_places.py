"""administrative units, history and agencies

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# unaccent() is only STABLE (it reads its dictionary by search_path), so it cannot be used
# in a generated column or an index. This wrapper names the dictionary explicitly and is
# declared IMMUTABLE, the usual way to index unaccented text.
F_UNACCENT = """
CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN public.unaccent('public.unaccent'::regdictionary, $1)
"""


def upgrade() -> None:
    op.execute(F_UNACCENT)
    op.create_table(
        "admin_units",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("division_type", sa.String(length=40), nullable=False),
        sa.Column("parent_code", sa.String(length=5), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("short_name", sa.String(length=120), nullable=False),
        sa.Column("name_ascii", sa.String(length=120), nullable=False),
        sa.Column("codename", sa.String(length=120), nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed("lower(f_unaccent((name)::text))", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('city', 'ward', 'commune', 'special_zone')", name=op.f("ck_admin_units_kind")
        ),
        sa.CheckConstraint("level IN (1, 2)", name=op.f("ck_admin_units_level")),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["admin_units.code"],
            name=op.f("fk_admin_units_parent_code_admin_units"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_admin_units")),
    )
    op.create_index("ix_admin_units_parent_code", "admin_units", ["parent_code"], unique=False)
    op.create_index(
        "ix_admin_units_search_text",
        "admin_units",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "former_units",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("division_type", sa.String(length=40), nullable=False),
        sa.Column("parent_code", sa.String(length=5), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("short_name", sa.String(length=120), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed("lower(f_unaccent((full_name)::text))", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('city', 'province', 'urban_district', 'rural_district', 'district_city', 'town', 'ward', 'commune', 'township')",
            name=op.f("ck_former_units_kind"),
        ),
        sa.CheckConstraint(
            "length(code) = CASE level WHEN 1 THEN 2 WHEN 2 THEN 3 ELSE 5 END",
            name=op.f("ck_former_units_code"),
        ),
        sa.CheckConstraint("level IN (1, 2, 3)", name=op.f("ck_former_units_level")),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["former_units.code"],
            name=op.f("fk_former_units_parent_code_former_units"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_former_units")),
    )
    op.create_index("ix_former_units_parent_code", "former_units", ["parent_code"], unique=False)
    op.create_index(
        "ix_former_units_province_code", "former_units", ["province_code", "level"], unique=False
    )
    op.create_index(
        "ix_former_units_search_text",
        "former_units",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("parent_code", sa.String(length=13), nullable=True),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("short_name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "lower(f_unaccent((((name)::text || ' '::text) || (short_name)::text)))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code ~ '^\\d{3}\\.\\d{2}\\.\\d{2}\\.H29$'", name=op.f("ck_agencies_code")
        ),
        sa.CheckConstraint(
            "kind IN ('city_committee', 'department', 'service_centre', 'police', 'ward_committee')",
            name=op.f("ck_agencies_kind"),
        ),
        sa.CheckConstraint("level IN ('city', 'commune')", name=op.f("ck_agencies_level")),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["agencies.code"], name=op.f("fk_agencies_parent_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["admin_units.code"], name=op.f("fk_agencies_unit_code_admin_units")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_agencies")),
    )
    op.create_index("ix_agencies_kind", "agencies", ["kind"], unique=False)
    op.create_index("ix_agencies_parent_code", "agencies", ["parent_code"], unique=False)
    op.create_index(
        "ix_agencies_search_text",
        "agencies",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_agencies_unit_code", "agencies", ["unit_code"], unique=False)
    op.create_table(
        "unit_successions",
        sa.Column("former_code", sa.String(length=5), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("is_main", sa.Boolean(), nullable=False),
        sa.Column("whole", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["former_code"],
            ["former_units.code"],
            name=op.f("fk_unit_successions_former_code_former_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["admin_units.code"],
            name=op.f("fk_unit_successions_unit_code_admin_units"),
        ),
        sa.PrimaryKeyConstraint("former_code", "unit_code", name=op.f("pk_unit_successions")),
    )
    op.create_index(
        "ix_unit_successions_unit_code", "unit_successions", ["unit_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_unit_successions_unit_code", table_name="unit_successions")
    op.drop_table("unit_successions")
    op.drop_index("ix_agencies_unit_code", table_name="agencies")
    op.drop_index(
        "ix_agencies_search_text",
        table_name="agencies",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_agencies_parent_code", table_name="agencies")
    op.drop_index("ix_agencies_kind", table_name="agencies")
    op.drop_table("agencies")
    op.drop_index(
        "ix_former_units_search_text",
        table_name="former_units",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_former_units_province_code", table_name="former_units")
    op.drop_index("ix_former_units_parent_code", table_name="former_units")
    op.drop_table("former_units")
    op.drop_index(
        "ix_admin_units_search_text",
        table_name="admin_units",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_admin_units_parent_code", table_name="admin_units")
    op.drop_table("admin_units")
    op.execute("DROP FUNCTION IF EXISTS f_unaccent(text)")
