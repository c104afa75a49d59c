"""Reserved slot (placeholder, no schema change yet): filled in by the work it is named for.

Revision ID: 0022_webhooks
Revises: 0021_triggers
"""

from __future__ import annotations

revision = "0022_webhooks"
down_revision = "0021_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
