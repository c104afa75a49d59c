"""Reserved slot (placeholder, no schema change yet): filled in by the work it is named for.

Revision ID: 0021_triggers
Revises: 0020_serving_features
"""

from __future__ import annotations

revision = "0021_triggers"
down_revision = "0020_serving_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
