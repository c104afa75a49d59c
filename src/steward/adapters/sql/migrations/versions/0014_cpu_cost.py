"""Reserved slot (filled in by the work that needs it; a no-op until then).

Revision ID: 0014_cpu_cost
Revises: 0013_alerts
"""

from __future__ import annotations

revision = "0014_cpu_cost"
down_revision = "0013_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
