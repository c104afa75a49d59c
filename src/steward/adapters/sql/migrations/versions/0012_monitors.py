"""Monitors: definitions, per-window results and their summaries, runner leases.

Revision ID: 0012_monitors
Revises: 0011_prediction_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_monitors"
down_revision = "0011_prediction_log"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("reference", sa.String(500), nullable=False),
        sa.Column("window_s", sa.Integer, nullable=False),
        sa.Column("schedule", sa.String(200), nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("next_run_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_monitors"),
    )
    op.create_index("ix_monitors_next_run_at", "monitors", ["next_run_at"])
    op.create_table(
        "monitor_results",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.String(63), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_results"),
    )
    op.create_index("ix_monitor_results_monitor_window_end", "monitor_results", ["monitor", "window_end"])
    op.create_table(
        "monitor_leases",
        sa.Column("monitor", sa.String(63), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("monitor", name="pk_monitor_leases"),
    )


def downgrade() -> None:
    op.drop_table("monitor_leases")
    op.drop_index("ix_monitor_results_monitor_window_end", table_name="monitor_results")
    op.drop_table("monitor_results")
    op.drop_index("ix_monitors_next_run_at", table_name="monitors")
    op.drop_table("monitors")
