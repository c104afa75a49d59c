"""Appending to the audit trail: the one function every store uses, inside its transaction."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from steward.tracking._ports import AuditEvent

from ._tables import audit_log

_AUDIT_INSERT = insert(audit_log)


def append_audit(conn: Connection, event: AuditEvent) -> None:
    """Record ``event`` in the same transaction as the change it describes."""
    conn.execute(
        _AUDIT_INSERT,
        {
            "timestamp": event.timestamp,
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "details": event.details,
        },
    )
