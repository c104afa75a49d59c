"""Monitors: definitions, per-window results and their summaries, runner leases.

Revision ID: 0012_monitors
Revises: 0011_prediction_log
"""

from __future__ import annotations

revision = "0012_monitors"
down_revision = "0011_prediction_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
