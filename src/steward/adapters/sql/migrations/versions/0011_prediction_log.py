"""Prediction log: Parquet segments indexed by deployment and time window; delayed labels.

Revision ID: 0011_prediction_log
Revises: 0010_deployments
"""

from __future__ import annotations

revision = "0011_prediction_log"
down_revision = "0010_deployments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
