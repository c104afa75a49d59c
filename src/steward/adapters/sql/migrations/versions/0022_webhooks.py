"""Webhooks: subscriptions (secret encrypted), the delivery outbox, every attempt, the
delivery worker's audit cursor and lease.

Revision ID: 0022_webhooks
Revises: 0021_triggers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_webhooks"
down_revision = "0021_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("project", sa.String(250), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("since_entry", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_webhooks"),
    )
    op.create_index("ix_webhooks_project", "webhooks", ["project"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(32), nullable=False),
        sa.Column("webhook", sa.String(63), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.BigInteger, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("remaining", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("webhook", "entry_id", name="uq_webhook_deliveries_webhook_entry_id"),
    )
    op.create_index("ix_webhook_deliveries_status_next_attempt_at", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_webhook_created_at", "webhook_deliveries", ["webhook", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("delivery_id", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_webhook_attempts"),
    )
    op.create_table(
        "webhook_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_webhook_cursor"),
    )
    op.create_table(
        "webhook_leases",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_webhook_leases"),
    )


def downgrade() -> None:
    op.drop_table("webhook_leases")
    op.drop_table("webhook_cursor")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_webhook_created_at", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhooks_project", table_name="webhooks")
    op.drop_table("webhooks")
