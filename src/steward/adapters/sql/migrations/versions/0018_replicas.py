"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0018_replicas
Revises: 0017_uploads
"""

from __future__ import annotations

revision = "0018_replicas"
down_revision = "0017_uploads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
