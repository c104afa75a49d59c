"""Appending to the audit trail: the one function every store uses, inside its transaction.

Entries form a hash chain (:mod:`steward.core.audit_chain`). An append reads the head of
the chain, so appends must be serialised or two transactions would both link to the same
head: on PostgreSQL a transaction-level advisory lock does it (held to commit); on SQLite
every write transaction already starts with ``BEGIN IMMEDIATE`` and so runs alone. The
entry id is assigned here as head + 1, because the hash covers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, text

from steward.core import AuditEntry
from steward.core.audit_chain import GENESIS_HASH, canonical_details, entry_hash
from steward.errors import InvalidInputError
from steward.tracking._ports import AuditEvent

from ._fast import Prepared
from ._tables import audit_log

if TYPE_CHECKING:  # _store imports append_audit from here
    from steward.governance import AuditQuery

    from ._store import SqlStore

__all__ = ["ChainedEntry", "SqlAuditStore", "append_audit"]

_AUDIT_INSERT = Prepared(insert(audit_log))  # every mutation appends: on the DB-API cursor (see _fast.py)
_HEAD_QUERY = select(audit_log.c.entry_id, audit_log.c.hash).order_by(audit_log.c.entry_id.desc()).limit(1)
_HEAD = Prepared(_HEAD_QUERY)
# "STEW", "AUDT" as int4s; any constants work if every Steward process uses the same (and they differ
# from the migration lock's key).
_PG_AUDIT_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(1398031703, 1096107092)"))


def append_audit(conn: Connection, event: AuditEvent) -> int:
    """Record ``event`` in the same transaction as the change it describes.

    Returns:
        The new entry's id (its position in the chain).

    Raises:
        InvalidInputError: details that JSON cannot represent.
    """
    if conn.dialect.name == "postgresql":
        _PG_AUDIT_LOCK.first(conn)
    head = _HEAD.first(conn)
    entry_id, prev_hash = (1, GENESIS_HASH) if head is None else (int(head[0]) + 1, str(head[1]))
    try:
        details = canonical_details(event.details)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("audit details must be JSON values", field="details") from exc
    digest = entry_hash(
        entry_id=entry_id,
        timestamp=event.timestamp,
        actor=event.actor,
        action=event.action,
        target=event.target,
        details=details,
        prev_hash=prev_hash,
    )
    _AUDIT_INSERT.run(
        conn,
        {
            "entry_id": entry_id,
            "timestamp": event.timestamp,
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "details": details,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    return entry_id


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """One stored audit entry with its chain fields, as verification reads it."""

    entry_id: int
    timestamp: int
    actor: str
    action: str
    target: str
    details: dict[str, object]
    prev_hash: str
    hash: str


class SqlAuditStore:
    """The audit trail as a chain: append one event, or read every entry in order.

    Args:
        store: the metadata store whose engine (and transactions) this shares.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def record(self, event: AuditEvent) -> int:
        """Append ``event`` in a transaction of its own (events with no other change)."""
        with self._store.write() as conn:
            return append_audit(conn, event)

    def head(self) -> tuple[int, str] | None:
        """The newest entry's id and hash (None for an empty trail)."""
        with self._store.read() as conn:
            row = conn.execute(_HEAD_QUERY).first()
        return None if row is None else (int(row.entry_id), str(row.hash))

    def iter_entries(self, *, page_size: int = 5000) -> Iterator[ChainedEntry]:
        """Every entry in chain order, read in pages (keyset on entry_id) to bound memory."""
        after = 0
        while True:
            query = select(audit_log).where(audit_log.c.entry_id > after).order_by(audit_log.c.entry_id).limit(page_size)
            with self._store.read() as conn:
                rows = conn.execute(query).all()
            for r in rows:
                details = r.details if isinstance(r.details, dict) else {"_": r.details}
                yield ChainedEntry(
                    int(r.entry_id), int(r.timestamp), r.actor, r.action, r.target, details, str(r.prev_hash), str(r.hash)
                )
            if len(rows) < page_size:
                return
            after = int(rows[-1].entry_id)

    def list_entries(self, query: AuditQuery) -> list[AuditEntry]:
        """Entries matching ``query`` in its order past its cursor: one indexed range read
        on the primary key (the target prefix uses its own index)."""
        c = audit_log.c
        stmt = select(c.entry_id, c.timestamp, c.actor, c.action, c.target, c.details)
        if query.target:
            stmt = stmt.where(c.target.startswith(query.target, autoescape=True))
        if query.actor:
            stmt = stmt.where(c.actor == query.actor)
        if query.action:
            stmt = stmt.where(c.action.startswith(query.action, autoescape=True))
        if query.since is not None:
            stmt = stmt.where(c.timestamp >= query.since)
        if query.until is not None:
            stmt = stmt.where(c.timestamp < query.until)
        if query.cursor is not None:
            stmt = stmt.where(c.entry_id < query.cursor if query.newest_first else c.entry_id > query.cursor)
        stmt = stmt.order_by(c.entry_id.desc() if query.newest_first else c.entry_id).limit(query.limit)
        with self._store.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            AuditEntry(int(r.entry_id), int(r.timestamp), r.actor, r.action, r.target, r.details if isinstance(r.details, dict) else {"_": r.details})
            for r in rows
        ]
