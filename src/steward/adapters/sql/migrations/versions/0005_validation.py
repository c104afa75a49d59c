"""Validation suites: versioned YAML suites and stored validation results.

Revision ID: 0005_validation
Revises: 0004_governance
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used once the stage adds its tables
from alembic import op  # noqa: F401

revision = "0005_validation"
down_revision = "0004_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
