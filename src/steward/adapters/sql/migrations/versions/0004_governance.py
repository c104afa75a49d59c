"""Governance: users, tokens, roles, secrets, audit hash chain.

Revision ID: 0004_governance
Revises: 0003_registry
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - used once the stage adds its tables
from alembic import op  # noqa: F401

revision = "0004_governance"
down_revision = "0003_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
