"""Every listed card carries its system's stable UUID.

Lists and exports read cards, never manifests: the cards written before this
revision lack the ``uuid`` that the register now states for every system (its
own from the manifest, else one derived from the service and system ids), so
each is rewritten once from its service's current manifest. The entry's AI Act,
CRPA and publication-category fields are read from the manifest itself and need
no backfill. No table changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

from ai_disclosure.registry.listing import rebuild

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild(op.get_bind())


def downgrade() -> None:
    # Cards with a uuid read the same under 0004: nothing to undo.
    pass
