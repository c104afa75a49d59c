"""Feature store: views, their versioned definitions and the lineage of datasets built from them.

Revision ID: 0019_features
Revises: 0018_replicas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_features"
down_revision = "0018_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_views",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.Column("materialized_until", sa.BigInteger, nullable=True),
        sa.Column("newest_value_at", sa.BigInteger, nullable=True),
        sa.Column("materialized_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_feature_views"),
    )
    op.create_index("ix_feature_views_project", "feature_views", ["project"])
    op.create_table(
        "feature_view_versions",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["feature_views.name"], ondelete="CASCADE", name="fk_feature_view_versions_name_feature_views"
        ),
        sa.PrimaryKeyConstraint("name", "version", name="pk_feature_view_versions"),
    )
    op.create_table(
        "feature_lineage",
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("dataset_version", sa.Integer, nullable=False),
        sa.Column("view", sa.String(63), nullable=False),
        sa.Column("view_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("dataset", "dataset_version", "view", name="pk_feature_lineage"),
    )


def downgrade() -> None:
    op.drop_table("feature_lineage")
    op.drop_table("feature_view_versions")
    op.drop_index("ix_feature_views_project", table_name="feature_views")
    op.drop_table("feature_views")
