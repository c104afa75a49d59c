"""Immutable files: the digests of every file behind a model or dataset version.

Revision ID: 0009_version_files
Revises: 0008_projects
"""

from __future__ import annotations

revision = "0009_version_files"
down_revision = "0008_projects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
