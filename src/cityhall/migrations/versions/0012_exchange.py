"""exchange: members, subsystems, services, rights, consents, the message log; and the
registries a dossier consulted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_pin", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column(
            "given_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_consents")),
    )
    op.create_index(
        "uq_exchange_consents_active",
        "exchange_consents",
        ["subject_pin", "purpose"],
        unique=True,
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.create_table(
        "exchange_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("subject_pin", sa.String(length=12), nullable=True),
        sa.Column("acting", sa.String(length=200), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "direction IN ('request', 'response')", name=op.f("ck_exchange_log_direction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_log")),
        sa.UniqueConstraint("shard", "seq", name=op.f("uq_exchange_log_shard")),
    )
    op.create_index("ix_exchange_log_logged_at", "exchange_log", ["logged_at"], unique=False)
    op.create_index(
        "ix_exchange_log_message", "exchange_log", ["client", "message_id"], unique=False
    )
    op.create_index(
        "ix_exchange_log_service_time", "exchange_log", ["service", "logged_at"], unique=False
    )
    op.create_index(
        "ix_exchange_log_subject", "exchange_log", ["subject_pin", "logged_at"], unique=False
    )
    op.create_table(
        "exchange_log_heads",
        sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_exchange_log_heads")),
    )
    op.create_table(
        "exchange_members",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_exchange_members")),
    )
    op.create_table(
        "exchange_replay_guard",
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("client", "message_id", name=op.f("pk_exchange_replay_guard")),
    )
    op.create_index(
        "ix_exchange_replay_guard_seen", "exchange_replay_guard", ["seen_at"], unique=False
    )
    op.create_table(
        "exchange_subsystems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_code"],
            ["exchange_members.code"],
            name=op.f("fk_exchange_subsystems_member_code_exchange_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_subsystems")),
        sa.UniqueConstraint("member_code", "code", name=op.f("uq_exchange_subsystems_member_code")),
    )
    op.create_table(
        "exchange_rate_windows",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["exchange_subsystems.id"],
            name=op.f("fk_exchange_rate_windows_client_id_exchange_subsystems"),
        ),
        sa.PrimaryKeyConstraint("client_id", "minute", name=op.f("pk_exchange_rate_windows")),
    )
    op.create_table(
        "exchange_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subsystem_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("purposes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("upstream_path", sa.String(length=300), nullable=False),
        sa.Column("openapi", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "classification IN ('public', 'internal', 'personal', 'sensitive')",
            name=op.f("ck_exchange_services_classification"),
        ),
        sa.ForeignKeyConstraint(
            ["subsystem_id"],
            ["exchange_subsystems.id"],
            name=op.f("fk_exchange_services_subsystem_id_exchange_subsystems"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_services")),
        sa.UniqueConstraint("subsystem_id", "code", name=op.f("uq_exchange_services_subsystem_id")),
    )
    op.create_table(
        "exchange_rights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("purposes", postgresql.ARRAY(sa.String(length=64)), nullable=True),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["exchange_subsystems.id"],
            name=op.f("fk_exchange_rights_client_id_exchange_subsystems"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["exchange_services.id"],
            name=op.f("fk_exchange_rights_service_id_exchange_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rights")),
    )
    op.create_index(
        "uq_exchange_rights_active",
        "exchange_rights",
        ["client_id", "service_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "dossier_registry_lookups",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dossier_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("basis", sa.String(length=8), nullable=False),
        sa.Column("basis_detail", sa.String(length=500), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("consulted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_for", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "basis IN ('law', 'consent')", name=op.f("ck_dossier_registry_lookups_basis")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_registry_lookups_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_registry_lookups")),
    )
    op.create_index(
        "ix_dossier_registry_lookups_dossier",
        "dossier_registry_lookups",
        ["dossier_id"],
        unique=False,
    )
    # The message log is evidence: rows are only ever appended.
    op.execute(
        """
CREATE FUNCTION exchange_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'exchange_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER exchange_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON exchange_log
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_log_append_only();
INSERT INTO exchange_log_heads (shard, seq, hash)
    SELECT s, 0, decode(repeat('00', 32), 'hex') FROM generate_series(0, 7) AS s;
"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS exchange_log_append_only ON exchange_log")
    op.execute("DROP FUNCTION IF EXISTS exchange_log_append_only()")
    op.drop_index("ix_dossier_registry_lookups_dossier", table_name="dossier_registry_lookups")
    op.drop_table("dossier_registry_lookups")
    op.drop_index(
        "uq_exchange_rights_active",
        table_name="exchange_rights",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_table("exchange_rights")
    op.drop_table("exchange_services")
    op.drop_table("exchange_rate_windows")
    op.drop_table("exchange_subsystems")
    op.drop_index("ix_exchange_replay_guard_seen", table_name="exchange_replay_guard")
    op.drop_table("exchange_replay_guard")
    op.drop_table("exchange_members")
    op.drop_table("exchange_log_heads")
    op.drop_index("ix_exchange_log_subject", table_name="exchange_log")
    op.drop_index("ix_exchange_log_service_time", table_name="exchange_log")
    op.drop_index("ix_exchange_log_message", table_name="exchange_log")
    op.drop_index("ix_exchange_log_logged_at", table_name="exchange_log")
    op.drop_table("exchange_log")
    op.drop_index(
        "uq_exchange_consents_active",
        table_name="exchange_consents",
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.drop_table("exchange_consents")
