"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0017_uploads
Revises: 0016_mlflow_registry
"""

from __future__ import annotations

revision = "0017_uploads"
down_revision = "0016_mlflow_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
