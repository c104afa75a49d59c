"""Data: dataset versions, profiles, validation suites.

Revision ID: 0002_data
Revises: 0001_tracking
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used once the stage adds its tables
from alembic import op  # noqa: F401

revision = "0002_data"
down_revision = "0001_tracking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
