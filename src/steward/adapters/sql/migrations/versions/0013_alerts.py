"""Alerts: rules, their state (pending, firing, resolved) and notification deliveries.

Revision ID: 0013_alerts
Revises: 0012_monitors
"""

from __future__ import annotations

revision = "0013_alerts"
down_revision = "0012_monitors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
