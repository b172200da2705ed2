"""The initial registry schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("systems", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_services"),
    )
    op.create_table(
        "manifest_versions",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service"], ["services.id"], name="fk_manifest_versions_service_services"
        ),
        sa.PrimaryKeyConstraint("service", "version", name="pk_manifest_versions"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("hash", name="uq_tokens_hash"),
    )
    op.create_index("ix_tokens_service", "tokens", ["service"])
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_batches"),
    )
    op.create_index("ix_batches_service_received_at", "batches", ["service", "received_at"])
    op.create_table(
        "counts",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("window_start", sa.String(20), nullable=False),
        sa.Column("route", sa.String(512), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("notice_shown", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(64), server_default="", nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "service",
            "system",
            "window_start",
            "route",
            "mode",
            "notice_shown",
            "language",
            name="pk_counts",
        ),
    )
    op.create_table(
        "daily_totals",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("notice_shown", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("service", "system", "day", name="pk_daily_totals"),
    )
    op.create_index("ix_daily_totals_day", "daily_totals", ["day"])


def downgrade() -> None:
    op.drop_index("ix_daily_totals_day", table_name="daily_totals")
    op.drop_table("daily_totals")
    op.drop_table("counts")
    op.drop_index("ix_batches_service_received_at", table_name="batches")
    op.drop_table("batches")
    op.drop_index("ix_tokens_service", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("manifest_versions")
    op.drop_table("services")
