"""Tables of alerting: each rule's state and the history of what happened to it.

Created by migration ``0013_alerts``; keep the two in step (the schema-drift test compares
them). A rule is known by its name: the rule file is the user's, the state is ours.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, String, Table

from ._tables import _BigId, metadata

__all__ = ["alert_events", "alert_states"]

alert_states = Table(
    "alert_states",
    metadata,
    Column("rule", String(63), primary_key=True),
    Column("metric", String(200), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("deployment", String(63), nullable=True),
    Column("status", String(20), nullable=False),  # inactive | pending | firing
    Column("since_ms", BigInteger, nullable=True),  # when the current status began
    Column("last_ms", BigInteger, nullable=True),  # the newest observation applied
    Column("value", Float, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)

# pending, fired, resolved, insufficient_sample, notified, notify_failed, action.<name>
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("rule", String(63), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_alert_events_rule_id", "rule", "id"),
)
