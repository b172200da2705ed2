"""The decision-level log: decisions, and their number per system and month.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("at", sa.String(20), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("service", "reference", "system", name="pk_decisions"),
    )
    op.create_index("ix_decisions_batch_id", "decisions", ["batch_id"])
    op.create_table(
        "decision_months",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("service", "system", "month", name="pk_decision_months"),
    )


def downgrade() -> None:
    op.drop_table("decision_months")
    op.drop_index("ix_decisions_batch_id", table_name="decisions")
    op.drop_table("decisions")
