"""Evaluation: stored evaluation reports, gate outcomes and gate overrides.

Revision ID: 0007_evaluation
Revises: 0006_audit_chain
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_evaluation"
down_revision = "0006_audit_chain"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("dataset_ref", sa.String(1000), nullable=False),
        sa.Column("dataset_hash", sa.String(64), nullable=True),
        sa.Column("task", sa.String(20), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
    )
    op.create_index("ix_evaluations_model_name_model_version", "evaluations", ["model_name", "model_version"])
    op.create_table(
        "gate_results",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("dataset_ref", sa.String(1000), nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("champion_version", sa.Integer, nullable=True),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("evaluation_id", sa.BigInteger, nullable=True),
        sa.Column("champion_evaluation_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_results"),
    )
    op.create_index("ix_gate_results_model_name_model_version", "gate_results", ["model_name", "model_version"])
    op.create_table(
        "gate_overrides",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("gate_result_id", sa.BigInteger, nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_overrides"),
        sa.ForeignKeyConstraint(
            ["gate_result_id"], ["gate_results.id"], name="fk_gate_overrides_gate_result_id_gate_results", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_gate_overrides_model_name_model_version", "gate_overrides", ["model_name", "model_version"])


def downgrade() -> None:
    op.drop_index("ix_gate_overrides_model_name_model_version", table_name="gate_overrides")
    op.drop_table("gate_overrides")
    op.drop_index("ix_gate_results_model_name_model_version", table_name="gate_results")
    op.drop_table("gate_results")
    op.drop_index("ix_evaluations_model_name_model_version", table_name="evaluations")
    op.drop_table("evaluations")
