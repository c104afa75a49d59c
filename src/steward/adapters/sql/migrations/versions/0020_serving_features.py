"""Serving-time feature lookup: the features each deployment's requests are completed with.

Revision ID: 0020_serving_features
Revises: 0019_features
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_serving_features"
down_revision = "0019_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_features",
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("deployment", name="pk_deployment_features"),
    )


def downgrade() -> None:
    op.drop_table("deployment_features")
