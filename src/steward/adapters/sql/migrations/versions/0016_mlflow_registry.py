"""MLflow's model registry on Steward's: the logged model a version was registered from,
and the names of deleted registered models.

``model_versions.logged_model_id`` names the MLflow 3 logged model (``m-...``) whose files
a version pins, when it came from one (``mlflow.sklearn.log_model(...,
registered_model_name=...)``); the version's run is the model's source run.

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
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("logged_model_id", sa.String(64), nullable=True))
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
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("logged_model_id")
