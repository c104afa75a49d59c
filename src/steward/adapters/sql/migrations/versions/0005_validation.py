"""Validation suites: versioned YAML suites and stored validation results.

Revision ID: 0005_validation
Revises: 0004_governance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_validation"
down_revision = "0004_governance"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "validation_suites",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_validation_suites"),
        sa.UniqueConstraint("name", "version", name="uq_validation_suites_name_version"),
        sa.UniqueConstraint("name", "content_hash", name="uq_validation_suites_name_content_hash"),
    )
    op.create_table(
        "validation_results",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("suite_ref", sa.String(300), nullable=False),
        sa.Column("dataset_ref", sa.String(1000), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_validation_results"),
    )
    op.create_index("ix_validation_results_dataset_ref", "validation_results", ["dataset_ref"])
    op.create_index("ix_validation_results_suite_ref", "validation_results", ["suite_ref"])


def downgrade() -> None:
    op.drop_index("ix_validation_results_suite_ref", table_name="validation_results")
    op.drop_index("ix_validation_results_dataset_ref", table_name="validation_results")
    op.drop_table("validation_results")
    op.drop_table("validation_suites")
