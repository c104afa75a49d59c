"""Prediction log: Parquet segments indexed by deployment and time window; delayed labels.

Revision ID: 0011_prediction_log
Revises: 0010_deployments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_prediction_log"
down_revision = "0010_deployments"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "prediction_segments",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("min_time", sa.BigInteger, nullable=False),
        sa.Column("max_time", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_segments"),
        sa.UniqueConstraint("path", name="uq_prediction_segments_path"),
    )
    op.create_index("ix_prediction_segments_deployment_min_time", "prediction_segments", ["deployment", "min_time"])
    op.create_table(
        "prediction_labels",
        sa.Column("deployment", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("label", sa.JSON, nullable=True),
        sa.Column("ingested_at", sa.BigInteger, nullable=False),
        sa.Column("ingested_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("deployment", "request_id", "row", name="pk_prediction_labels"),
    )


def downgrade() -> None:
    op.drop_table("prediction_labels")
    op.drop_index("ix_prediction_segments_deployment_min_time", table_name="prediction_segments")
    op.drop_table("prediction_segments")
