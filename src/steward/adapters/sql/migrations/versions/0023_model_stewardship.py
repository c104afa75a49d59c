"""Reserved slot (placeholder, no schema change yet): filled in by the work it is named for.

Revision ID: 0023_model_stewardship
Revises: 0022_webhooks
"""

from __future__ import annotations

revision = "0023_model_stewardship"
down_revision = "0022_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
