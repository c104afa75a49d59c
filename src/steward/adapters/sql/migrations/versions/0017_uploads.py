"""Resumable uploads: one row per open upload session (chunks live in the artifact store).

Revision ID: 0017_uploads
Revises: 0016_mlflow_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_uploads"
down_revision = "0016_mlflow_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(250), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="dataset"),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("upload_id", name="pk_uploads"),
    )
    op.create_index("ix_uploads_owner_dataset_sha256", "uploads", ["owner", "dataset", "sha256"])


def downgrade() -> None:
    op.drop_index("ix_uploads_owner_dataset_sha256", table_name="uploads")
    op.drop_table("uploads")
