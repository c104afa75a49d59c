"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0015_logged_models
Revises: 0014_cpu_cost
"""

from __future__ import annotations

revision = "0015_logged_models"
down_revision = "0014_cpu_cost"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
