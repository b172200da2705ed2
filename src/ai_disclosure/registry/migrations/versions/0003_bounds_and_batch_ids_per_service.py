"""Batch ids unique per service, with a digest of each batch's content; language
tags bounded to 35 characters.

Counts stored under a longer language tag (possible on PostgreSQL before, up to
64 characters) are not valid tags: they are folded into the unknown language
``""``, added to any count already there. Going down keeps every count; a batch
id used by several services keeps only one of its rows (the older schema cannot
hold more), so a replay of the others would be stored again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COUNT_KEY = '"service", "system", "window_start", "route", "mode", "notice_shown"'


def upgrade() -> None:
    # A WHERE clause before ON CONFLICT keeps SQLite's parser from reading it as a join.
    op.execute(
        f'INSERT INTO counts ({_COUNT_KEY}, "language", "count") '
        f'SELECT {_COUNT_KEY}, \'\', sum("count") FROM counts WHERE length("language") > 35 '
        f"GROUP BY {_COUNT_KEY} "
        f'ON CONFLICT ({_COUNT_KEY}, "language") '
        'DO UPDATE SET "count" = counts."count" + excluded."count"'
    )
    op.execute('DELETE FROM counts WHERE length("language") > 35')
    with op.batch_alter_table("counts") as table:
        table.alter_column(
            "language",
            type_=sa.String(35),
            existing_type=sa.String(64),
            existing_nullable=False,
            existing_server_default="",
        )
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("digest", sa.String(64), nullable=True))
        table.drop_constraint("pk_batches", type_="primary")
        table.create_primary_key("pk_batches", ["service", "batch_id"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM batches WHERE EXISTS (SELECT 1 FROM batches AS other "
        "WHERE other.batch_id = batches.batch_id AND other.service < batches.service)"
    )
    with op.batch_alter_table("batches") as table:
        table.drop_constraint("pk_batches", type_="primary")
        table.create_primary_key("pk_batches", ["batch_id"])
        table.drop_column("digest")
    with op.batch_alter_table("counts") as table:
        table.alter_column(
            "language",
            type_=sa.String(64),
            existing_type=sa.String(35),
            existing_nullable=False,
            existing_server_default="",
        )
