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

from sqlalchemy import ColumnElement, Connection, and_, func, insert, literal, select, text

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
        """Entries matching ``query`` in its order past its cursor: a range read on the
        primary key, or on the actor, action or target index when its filter is selective
        (indexes of migration 0025_audit_filter_indexes)."""
        c = audit_log.c
        sqlite = self._store.engine.dialect.name == "sqlite"
        after = None
        if query.cursor is not None:
            after = c.entry_id < query.cursor if query.newest_first else c.entry_id > query.cursor
        stmt = select(c.entry_id, c.timestamp, c.actor, c.action, c.target, c.details)
        with self._store.read() as conn:
            for column, prefix in ((c.target, query.target), (c.action, query.action)):
                if prefix:
                    stmt = stmt.where(_starts_with(column, prefix, conn=conn if sqlite else None, after=after))
            if query.actor:
                stmt = stmt.where(c.actor == query.actor)
            if query.since is not None:
                stmt = stmt.where(c.timestamp >= query.since)
            if query.until is not None:
                stmt = stmt.where(c.timestamp < query.until)
            if after is not None:
                stmt = stmt.where(after)
            stmt = stmt.order_by(c.entry_id.desc() if query.newest_first else c.entry_id).limit(query.limit)
            rows = conn.execute(stmt).all()
        return [
            AuditEntry(int(r.entry_id), int(r.timestamp), r.actor, r.action, r.target, r.details if isinstance(r.details, dict) else {"_": r.details})
            for r in rows
        ]


# A prefix matching at most this many entries is read from its index and sorted by id;
# a denser one from the primary key in order, where a page is found after a short scan.
_SPARSE_PREFIX = 20_000


def _starts_with(
    column: ColumnElement[str], prefix: str, *, conn: Connection | None, after: ColumnElement[bool] | None
) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, in the form the database best answers a page from.

    PostgreSQL (``conn`` None) gets LIKE: it folds the bound pattern before planning, reads
    the range from a ``varchar_pattern_ops`` index whatever the database's collation, and
    its statistics tell it when the primary key's order is cheaper.

    SQLite uses an index for LIKE only with a literal pattern and a NOCASE index (and
    SQLAlchemy binds ``? || '%'``); the test is the range ``[prefix, next)`` instead, which
    under SQLite's bytewise UTF-8 collation holds exactly the strings starting with
    ``prefix``, case-sensitive as LIKE is on PostgreSQL. SQLite has no statistics on
    ranges, so the index is counted first (index only, at most ``_SPARSE_PREFIX``
    entries): a prefix matching more is written so that no index serves it (``|| ''``),
    and the page comes from the primary key in order instead of a sort of every match.
    """
    if conn is None:
        return column.startswith(prefix, autoescape=True)
    upper = _prefix_end(prefix)
    within = column >= prefix if upper is None else and_(column >= prefix, column < upper)
    probe = select(literal(1)).where(within)
    if after is not None:
        probe = probe.where(after)
    counted = conn.execute(select(func.count()).select_from(probe.limit(_SPARSE_PREFIX + 1).subquery())).scalar_one()
    if counted <= _SPARSE_PREFIX:
        return within
    unindexed = column.concat("")
    return unindexed >= prefix if upper is None else and_(unindexed >= prefix, unindexed < upper)


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (None: there is none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            # surrogates never occur in stored (UTF-8) text: step over them
            return prefix[:-1] + chr(0xE000 if 0xD800 <= last + 1 <= 0xDFFF else last + 1)
        prefix = prefix[:-1]
    return None
