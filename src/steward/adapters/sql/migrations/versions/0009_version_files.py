"""Immutable files: the digests of every file behind a model or dataset version.

Model versions get ``model_version_files``: (path, sha256, size) of every file of the model
folder, pinned at registration; loading reads those blobs, whatever the run's artifact paths
point at later. Versions registered before this migration are backfilled from their run's
artifact rows as they are now (the best record there is). Dataset versions need no table:
``dataset_versions.artifact_digest`` already pins their one Parquet blob.

Revision ID: 0009_version_files
Revises: 0008_projects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_version_files"
down_revision = "0008_projects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_version_files",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"], ["model_versions.name", "model_versions.version"],
            name="fk_model_version_files_name_model_versions", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", "path", name="pk_model_version_files"),
    )
    # substr/length compare the prefix exactly: LIKE would read '_' and '%' in a path as
    # wildcards. Both functions exist with these meanings on SQLite and PostgreSQL.
    op.execute(
        sa.text(
            "INSERT INTO model_version_files (name, version, path, digest, size) "
            "SELECT v.name, v.version, substr(a.path, length(v.artifact_path) + 2), a.digest, a.size "
            "FROM model_versions v JOIN run_artifacts a ON a.run_id = v.run_id "
            "WHERE substr(a.path, 1, length(v.artifact_path) + 1) = v.artifact_path || '/'"
        )
    )


def downgrade() -> None:
    op.drop_table("model_version_files")
