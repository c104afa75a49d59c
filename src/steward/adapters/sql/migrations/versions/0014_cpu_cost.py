"""Measured CPU time in the serving stats: ``deployment_stats.cpu_ms`` and ``rows``.

Serving processes measure the CPU time of each model call and report, per variant and
window, the CPU milliseconds of the answered requests and the rows they predicted; a
monitor's cost per 1,000 predictions prices them (every request, not only the logged ones).
Windows reported before this revision have null in both.

Revision ID: 0014_cpu_cost
Revises: 0013_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_cpu_cost"
down_revision = "0013_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment_stats") as batch:
        batch.add_column(sa.Column("cpu_ms", sa.Float, nullable=True))
        batch.add_column(sa.Column("rows", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment_stats") as batch:
        batch.drop_column("rows")
        batch.drop_column("cpu_ms")
