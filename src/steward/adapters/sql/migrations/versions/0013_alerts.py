"""Alerts: rules, their state (pending, firing, resolved) and notification deliveries.

Revision ID: 0013_alerts
Revises: 0012_monitors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_alerts"
down_revision = "0012_monitors"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_states",
        sa.Column("rule", sa.String(63), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("deployment", sa.String(63), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("since_ms", sa.BigInteger, nullable=True),
        sa.Column("last_ms", sa.BigInteger, nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("rule", name="pk_alert_states"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_rule_id", "alert_events", ["rule", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_rule_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_states")
