"""Runs: an index on (experiment_id, start_time), the runs table's default order.

A runs page (newest first, one experiment) then reads its page through the index instead
of sorting every run of the experiment.

Revision ID: 0024_runs_start_index
Revises: 0023_model_stewardship
"""

from __future__ import annotations

from alembic import op

revision = "0024_runs_start_index"
down_revision = "0023_model_stewardship"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time"])


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
