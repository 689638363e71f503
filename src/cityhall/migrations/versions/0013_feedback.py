"""feedback: categories (Open311 services), reports, events, followers, API clients

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_api_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_feedback_api_clients_key_hash")),
    )
    op.create_table(
        "feedback_category_groups",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_feedback_category_groups")),
    )
    op.create_table(
        "feedback_categories",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("agency_type", sa.String(length=16), nullable=False),
        sa.Column("agency_code", sa.String(length=13), nullable=True),
        sa.Column("answer_days", sa.SmallInteger(), nullable=False),
        sa.Column("duplicate_radius_m", sa.Integer(), nullable=False),
        sa.Column("anonymous_allowed", sa.Boolean(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(agency_type = 'city') = (agency_code IS NOT NULL)",
            name=op.f("ck_feedback_categories_agency_code"),
        ),
        sa.CheckConstraint(
            "agency_type IN ('ward', 'city', 'dispatch')",
            name=op.f("ck_feedback_categories_agency_type"),
        ),
        sa.CheckConstraint(
            "answer_days BETWEEN 1 AND 60", name=op.f("ck_feedback_categories_answer_days")
        ),
        sa.CheckConstraint(
            "duplicate_radius_m BETWEEN 1 AND 5000", name=op.f("ck_feedback_categories_radius")
        ),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_feedback_categories_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["feedback_category_groups.code"],
            name=op.f("fk_feedback_categories_group_code_feedback_category_groups"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_feedback_categories")),
    )
    op.create_table(
        "feedback_reports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("moderation", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("public_description", sa.Text(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("long", sa.Double(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("address_id", sa.String(length=64), nullable=True),
        sa.Column("photos", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("media_url", sa.String(length=1000), nullable=True),
        sa.Column("unit_code", sa.String(length=5), nullable=True),
        sa.Column("agency_code", sa.String(length=13), nullable=True),
        sa.Column("routing_note", sa.String(length=300), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_citizen_id", sa.Integer(), nullable=True),
        sa.Column("reporter_pin", sa.String(length=12), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column("reporter_email", sa.String(length=254), nullable=True),
        sa.Column("entered_by", sa.String(length=80), nullable=False),
        sa.Column("api_client_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("result_photos", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("committed_date", sa.Date(), nullable=True),
        sa.Column("duplicate_of_id", sa.BigInteger(), nullable=True),
        sa.Column("reopened_count", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('web', 'phone', 'email', 'social', 'open311')",
            name=op.f("ck_feedback_reports_channel"),
        ),
        sa.CheckConstraint(
            "moderation IN ('pending', 'approved', 'hidden')",
            name=op.f("ck_feedback_reports_moderation"),
        ),
        sa.CheckConstraint(
            "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'resolved', 'rejected', 'reopened', 'merged')",
            name=op.f("ck_feedback_reports_state"),
        ),
        sa.CheckConstraint(
            "(lat IS NULL) = (long IS NULL)", name=op.f("ck_feedback_reports_point")
        ),
        sa.CheckConstraint(
            "lat IS NOT NULL OR address IS NOT NULL", name=op.f("ck_feedback_reports_location")
        ),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_feedback_reports_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["feedback_api_clients.id"],
            name=op.f("fk_feedback_reports_api_client_id_feedback_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["feedback_categories.code"],
            name=op.f("fk_feedback_reports_category_code_feedback_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["feedback_reports.id"],
            name=op.f("fk_feedback_reports_duplicate_of_id_feedback_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_citizen_id"],
            ["citizens.id"],
            name=op.f("fk_feedback_reports_reporter_citizen_id_citizens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reports")),
        sa.UniqueConstraint("public_id", name=op.f("uq_feedback_reports_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feedback_reports_token_hash")),
    )
    op.create_index(
        "ix_feedback_reports_agency_state",
        "feedback_reports",
        ["agency_code", "state", "due_at"],
        unique=False,
    )
    op.create_index(
        "ix_feedback_reports_dispatch",
        "feedback_reports",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("state = 'dispatch'"),
    )
    op.create_index(
        "ix_feedback_reports_duplicate_of", "feedback_reports", ["duplicate_of_id"], unique=False
    )
    op.create_index(
        "ix_feedback_reports_moderation",
        "feedback_reports",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("moderation = 'pending'"),
    )
    op.create_index(
        "ix_feedback_reports_nearby",
        "feedback_reports",
        ["category_code", sa.literal_column("point(long * 0.98229, lat)")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text(
            "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened') AND lat IS NOT NULL"
        ),
    )
    op.create_index(
        "ix_feedback_reports_overdue",
        "feedback_reports",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text(
            "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened') AND escalated_at IS NULL"
        ),
    )
    op.create_index(
        "ix_feedback_reports_received", "feedback_reports", ["received_at"], unique=False
    )
    op.create_index(
        "ix_feedback_reports_reporter",
        "feedback_reports",
        ["reporter_citizen_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=13), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("public_note", sa.Boolean(), nullable=False),
        sa.Column("committed_date", sa.Date(), nullable=True),
        sa.Column("photos", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["feedback_reports.id"],
            name=op.f("fk_feedback_events_report_id_feedback_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_events")),
        sa.UniqueConstraint("report_id", "seq", name="uq_feedback_events_seq"),
    )
    op.create_index("ix_feedback_events_at", "feedback_events", ["at"], unique=False)
    op.create_table(
        "feedback_followers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("who", sa.String(length=300), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("from_report_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("via IN ('follow', 'merge')", name=op.f("ck_feedback_followers_via")),
        sa.CheckConstraint(
            "citizen_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL",
            name=op.f("ck_feedback_followers_who"),
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_feedback_followers_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["feedback_reports.id"],
            name=op.f("fk_feedback_followers_report_id_feedback_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_followers")),
        sa.UniqueConstraint("report_id", "who", name="uq_feedback_followers_who"),
    )
    op.create_index(
        "ix_feedback_followers_citizen", "feedback_followers", ["citizen_id"], unique=False
    )
    op.create_table(
        "feedback_intake_keys",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["feedback_reports.id"],
            name=op.f("fk_feedback_intake_keys_report_id_feedback_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_feedback_intake_keys")),
    )
    # Public ids PA-<YYMM>-<n>: one sequence, never reset, never reused.
    op.execute("CREATE SEQUENCE feedback_report_seq START 1")


def downgrade() -> None:
    op.execute("DROP SEQUENCE IF EXISTS feedback_report_seq")
    op.drop_table("feedback_intake_keys")
    op.drop_index("ix_feedback_followers_citizen", table_name="feedback_followers")
    op.drop_table("feedback_followers")
    op.drop_index("ix_feedback_events_at", table_name="feedback_events")
    op.drop_table("feedback_events")
    op.drop_index("ix_feedback_reports_reporter", table_name="feedback_reports")
    op.drop_index("ix_feedback_reports_received", table_name="feedback_reports")
    op.drop_index(
        "ix_feedback_reports_overdue",
        table_name="feedback_reports",
        postgresql_where=sa.text(
            "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened') AND escalated_at IS NULL"
        ),
    )
    op.drop_index(
        "ix_feedback_reports_nearby",
        table_name="feedback_reports",
        postgresql_using="gist",
        postgresql_where=sa.text(
            "state IN ('new', 'dispatch', 'assigned', 'in_progress', 'reopened') AND lat IS NOT NULL"
        ),
    )
    op.drop_index(
        "ix_feedback_reports_moderation",
        table_name="feedback_reports",
        postgresql_where=sa.text("moderation = 'pending'"),
    )
    op.drop_index("ix_feedback_reports_duplicate_of", table_name="feedback_reports")
    op.drop_index(
        "ix_feedback_reports_dispatch",
        table_name="feedback_reports",
        postgresql_where=sa.text("state = 'dispatch'"),
    )
    op.drop_index("ix_feedback_reports_agency_state", table_name="feedback_reports")
    op.drop_table("feedback_reports")
    op.drop_table("feedback_categories")
    op.drop_table("feedback_category_groups")
    op.drop_table("feedback_api_clients")
