"""MLflow's model registry on Steward's: the names of deleted registered models.

MLflow clients may delete a registered model and create it again. The tombstone keeps the
last version number the deleted model reached, so the new model's versions count on from
there and ``name:1`` never names two different models in gates, evaluations or the audit
trail.

Revision ID: 0016_mlflow_registry
Revises: 0015_logged_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_mlflow_registry"
down_revision = "0015_logged_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_model_tombstones",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_registered_model_tombstones"),
    )


def downgrade() -> None:
    op.drop_table("registered_model_tombstones")
