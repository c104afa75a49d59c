"""Tables of state that every server replica must share: failed logins (rate limiting).

Created by migration ``0018_replicas``; keep the two in step (the schema-drift test compares
them). A row per failed login, kept for the rate limit's window only (each new failure
deletes the expired ones), so the table stays as small as the failures of one window.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from ._tables import _BigId, metadata

__all__ = ["auth_failures"]

auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    # what is counted: "address" (a client address) or "user" (a user name)
    Column("scope", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("failed_at", BigInteger, nullable=False),  # ms since the epoch
    Index("ix_auth_failures_key", "scope", "key", "failed_at"),
    Index("ix_auth_failures_failed_at", "failed_at"),
)
