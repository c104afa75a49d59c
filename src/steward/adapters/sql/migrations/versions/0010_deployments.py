"""Deployments: traffic plans, their history and the rollout controllers' leases.

``deployments`` holds each deployment's current plan (every serving replica reads it),
``deployment_history`` every change with who and why, ``deployment_stats`` what serving
replicas report per variant and window (the rollout controller sums them), and
``deployment_leases`` which controller acts for a deployment until when.

Revision ID: 0010_deployments
Revises: 0009_version_files
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_deployments"
down_revision = "0009_version_files"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("variants", sa.JSON, nullable=False),
        sa.Column("sticky_key", sa.String(250), nullable=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("rollout", sa.JSON, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_deployments"),
    )
    op.create_index("ix_deployments_project", "deployments", ["project"])
    op.create_table(
        "deployment_history",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("variants", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_history"),
    )
    op.create_index("ix_deployment_history_deployment_id", "deployment_history", ["deployment", "id"])
    op.create_table(
        "deployment_stats",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("variant", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_end_ms", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("latency_counts", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_stats"),
    )
    op.create_index("ix_deployment_stats_deployment_revision", "deployment_stats", ["deployment", "revision"])
    op.create_table(
        "deployment_leases",
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("deployment", name="pk_deployment_leases"),
    )


def downgrade() -> None:
    op.drop_table("deployment_leases")
    op.drop_index("ix_deployment_stats_deployment_revision", table_name="deployment_stats")
    op.drop_table("deployment_stats")
    op.drop_index("ix_deployment_history_deployment_id", table_name="deployment_history")
    op.drop_table("deployment_history")
    op.drop_index("ix_deployments_project", table_name="deployments")
    op.drop_table("deployments")
