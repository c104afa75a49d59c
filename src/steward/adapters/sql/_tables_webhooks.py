"""Tables of the webhooks: subscriptions, the outbox of deliveries, every attempt, the
worker's audit cursor and its lease.

Created by migration ``0022_webhooks``; keep the two in step (the schema-drift test compares
them). A subscription's secret is stored only as AES-256-GCM ciphertext under the master key
(as :mod:`._tables_secrets` stores secrets), with the webhook's name as associated data.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ._tables import metadata

__all__ = ["webhook_attempts", "webhook_cursor", "webhook_deliveries", "webhook_leases", "webhooks"]

webhooks = Table(
    "webhooks",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("project", String(250), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),  # the event names it receives
    # 12-byte nonce + AES-GCM ciphertext and tag of the signing secret
    Column("ciphertext", LargeBinary, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("max_attempts", Integer, nullable=False),
    # the audit entry that created it: only later entries are delivered to it
    Column("since_entry", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_webhooks_project", "project"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(32), primary_key=True),
    Column("webhook", String(63), nullable=False),
    Column("event", String(64), nullable=False),
    # the audit entry it reports (None for a test ping): one delivery per webhook and entry
    Column("entry_id", BigInteger, nullable=True),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent (UTF-8 JSON)
    Column("status", String(16), nullable=False),  # pending | succeeded | failed
    Column("attempts", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),  # attempts left before it is failed
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("webhook", "entry_id"),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook_created_at", "webhook", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(32), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("started_at", BigInteger, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),  # None: no answer (timeout, refused)
    Column("error", String(500), nullable=True),
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("entry_id", BigInteger, nullable=False),  # the last audit entry scanned
)

webhook_leases = Table(
    "webhook_leases",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("acquired_at", BigInteger, nullable=False),
)
