"""Each system's history kept in the register, and copied into its listed card.

Bulk downloads carry every system's history (the versions that added, changed or
removed it); reading it from old manifests on each download would load every
version of every service. ``system_histories`` is filled by walking each
service's versions once, one service and one version at a time, then every card
is rewritten with its history. Publishing keeps both current from then on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ai_disclosure.registry.histories import fill
from ai_disclosure.registry.listing import rebuild

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "system_histories",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(32), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service", "system", name="pk_system_histories"),
    )
    fill(op.get_bind())
    rebuild(op.get_bind())


def downgrade() -> None:
    # Cards with a history read the same under 0005; the table goes.
    op.drop_table("system_histories")
