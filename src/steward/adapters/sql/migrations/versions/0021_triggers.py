"""Triggers: definitions, their pipeline starts (unique per event) and runner leases.

Revision ID: 0021_triggers
Revises: 0020_serving_features
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_triggers"
down_revision = "0020_serving_features"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("pipeline", sa.JSON, nullable=False),
        sa.Column("cursor", sa.JSON, nullable=False),
        sa.Column("next_fire_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_triggers"),
    )
    op.create_index("ix_triggers_project", "triggers", ["project"])
    op.create_table(
        "trigger_starts",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("trigger", sa.String(63), nullable=False),
        sa.Column("event_key", sa.String(300), nullable=False),
        sa.Column("event", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.Column("started_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trigger_starts"),
        sa.UniqueConstraint("trigger", "event_key", name="uq_trigger_starts_trigger"),
    )
    op.create_index("ix_trigger_starts_trigger_id", "trigger_starts", ["trigger", "id"])
    op.create_table(
        "trigger_leases",
        sa.Column("trigger", sa.String(63), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("trigger", name="pk_trigger_leases"),
    )


def downgrade() -> None:
    op.drop_table("trigger_leases")
    op.drop_index("ix_trigger_starts_trigger_id", table_name="trigger_starts")
    op.drop_table("trigger_starts")
    op.drop_index("ix_triggers_project", table_name="triggers")
    op.drop_table("triggers")
