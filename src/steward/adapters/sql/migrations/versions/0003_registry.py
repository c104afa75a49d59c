"""Registry: registered models, versions, aliases, approvals, evaluations, gates.

Revision ID: 0003_registry
Revises: 0002_data
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used once the stage adds its tables
from alembic import op  # noqa: F401

revision = "0003_registry"
down_revision = "0002_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
