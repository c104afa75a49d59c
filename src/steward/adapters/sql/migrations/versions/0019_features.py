"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0019_features
Revises: 0018_replicas
"""

from __future__ import annotations

revision = "0019_features"
down_revision = "0018_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
