"""Deployments: traffic plans, their history and the rollout controllers' leases.

Revision ID: 0010_deployments
Revises: 0009_version_files
"""

from __future__ import annotations

revision = "0010_deployments"
down_revision = "0009_version_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
