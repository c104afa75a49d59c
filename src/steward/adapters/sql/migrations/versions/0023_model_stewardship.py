"""Model stewardship: owners and on-call contacts, retirements, rollback drills.

Revision ID: 0023_model_stewardship
Revises: 0022_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_model_stewardship"
down_revision = "0022_webhooks"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_stewards",
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("owner", sa.String(250), nullable=False),
        sa.Column("on_call", sa.String(500), nullable=False, server_default=""),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_model_stewards"),
    )
    op.create_table(
        "model_retirements",
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("retired_at", sa.BigInteger, nullable=False),
        sa.Column("retired_by", sa.String(250), nullable=False),
        sa.Column("retention", sa.String(20), nullable=False),
        sa.Column("archive", sa.Text, nullable=False, server_default=""),
        sa.Column("archive_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("drained", sa.JSON, nullable=False),
        sa.Column("served", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_retirements"),
    )
    op.create_table(
        "deployment_drills",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("serving", sa.String(300), nullable=False),
        sa.Column("rehearsed", sa.String(300), nullable=False),
        sa.Column("rollback_ms", sa.Integer, nullable=False),
        sa.Column("restore_ms", sa.Integer, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_drills"),
    )
    op.create_index("ix_deployment_drills_deployment", "deployment_drills", ["deployment", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_deployment_drills_deployment", table_name="deployment_drills")
    op.drop_table("deployment_drills")
    op.drop_table("model_retirements")
    op.drop_table("model_stewards")
