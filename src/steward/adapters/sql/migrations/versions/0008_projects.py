"""Projects: every experiment, registered model, dataset and suite belongs to one project.

Revision ID: 0008_projects
Revises: 0007_evaluation
"""

from __future__ import annotations

revision = "0008_projects"
down_revision = "0007_evaluation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by its issue's change


def downgrade() -> None:
    pass
