"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0016_mlflow_registry
Revises: 0015_logged_models
"""

from __future__ import annotations

revision = "0016_mlflow_registry"
down_revision = "0015_logged_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
