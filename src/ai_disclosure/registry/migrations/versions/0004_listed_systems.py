"""The register's read table and its search index; indexes for the register-wide
marker (newest manifest, newest batch) and for /v1/stats pages.

``listed_systems`` is filled from every service's current manifest (each parsed
once, one at a time), so an existing register lists and searches the same right
after the upgrade. PostgreSQL indexes the search words in a generated ``tsvector``
column with GIN; SQLite in a contentless FTS5 table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_disclosure.registry.listing import rebuild
from ai_disclosure.registry.tables import SEARCH_COLUMN, SEARCH_TABLE, SEARCH_VECTOR

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "listed_systems",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("interaction", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listed_systems"),
        sa.UniqueConstraint("service", "system", name="uq_listed_systems_service_system"),
    )
    op.create_index(
        "ix_listed_systems_service_position",
        "listed_systems",
        ["service", "position"],
        unique=True,
    )
    op.create_index("ix_listed_systems_status", "listed_systems", ["status"])
    op.create_index("ix_listed_systems_interaction", "listed_systems", ["interaction"])
    if sqlite:
        op.execute(
            f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, body, content='', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            f"ALTER TABLE listed_systems ADD COLUMN {SEARCH_COLUMN} tsvector "
            f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED"
        )
        op.execute(
            f"CREATE INDEX ix_listed_systems_search ON listed_systems USING gin ({SEARCH_COLUMN})"
        )
    op.create_index("ix_services_updated_at", "services", ["updated_at"])
    op.create_index("ix_batches_received_at", "batches", ["received_at"])
    op.create_index(
        "ix_daily_totals_day_service_system", "daily_totals", ["day", "service", "system"]
    )
    op.drop_index("ix_daily_totals_day", table_name="daily_totals")
    rebuild(op.get_bind())


def downgrade() -> None:
    op.create_index("ix_daily_totals_day", "daily_totals", ["day"])
    op.drop_index("ix_daily_totals_day_service_system", table_name="daily_totals")
    op.drop_index("ix_batches_received_at", table_name="batches")
    op.drop_index("ix_services_updated_at", table_name="services")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {SEARCH_TABLE}")
    op.drop_table("listed_systems")
