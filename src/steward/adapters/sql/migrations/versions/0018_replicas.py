"""Replicas: failed logins in the database, so every server replica counts them together.

Revision ID: 0018_replicas
Revises: 0017_uploads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_replicas"
down_revision = "0017_uploads"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_failures"),
    )
    op.create_index("ix_auth_failures_key", "auth_failures", ["scope", "key", "failed_at"])
    op.create_index("ix_auth_failures_failed_at", "auth_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_failures_failed_at", table_name="auth_failures")
    op.drop_index("ix_auth_failures_key", table_name="auth_failures")
    op.drop_table("auth_failures")
