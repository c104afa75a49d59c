"""MLflow 3's logged models: models, params, tags, metrics, files, and run outputs.

Revision ID: 0015_logged_models
Revises: 0014_cpu_cost
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_logged_models"
down_revision = "0014_cpu_cost"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["logged_models.model_id"], name=f"fk_{table}_model_id_logged_models", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(34), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("model_type", sa.String(250), nullable=False, server_default=""),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False, server_default=""),
        sa.Column("creator", sa.String(250), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name="fk_logged_models_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
    )
    op.create_index("ix_logged_models_experiment_id", "logged_models", ["experiment_id"])
    op.create_index("ix_logged_models_source_run_id", "logged_models", ["source_run_id"])
    for name in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(34), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            _model_fk(name),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{name}"),
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(34), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("dataset_name", sa.String(500), nullable=False, server_default=""),
        sa.Column("dataset_digest", sa.String(100), nullable=False, server_default=""),
        _model_fk("logged_model_metrics"),
        sa.PrimaryKeyConstraint("id", name="pk_logged_model_metrics"),
    )
    op.create_index("ix_logged_model_metrics_model_id_key", "logged_model_metrics", ["model_id", "key"])
    op.create_table(
        "logged_model_artifacts",
        sa.Column("model_id", sa.String(34), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        _model_fk("logged_model_artifacts"),
        sa.PrimaryKeyConstraint("model_id", "path", name="pk_logged_model_artifacts"),
    )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(34), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_model_outputs_run_id_runs", ondelete="CASCADE"),
        _model_fk("run_model_outputs"),
        sa.PrimaryKeyConstraint("run_id", "model_id", name="pk_run_model_outputs"),
    )


def downgrade() -> None:
    op.drop_table("run_model_outputs")
    op.drop_table("logged_model_artifacts")
    op.drop_index("ix_logged_model_metrics_model_id_key", table_name="logged_model_metrics")
    op.drop_table("logged_model_metrics")
    op.drop_table("logged_model_tags")
    op.drop_table("logged_model_params")
    op.drop_index("ix_logged_models_source_run_id", table_name="logged_models")
    op.drop_index("ix_logged_models_experiment_id", table_name="logged_models")
    op.drop_table("logged_models")
