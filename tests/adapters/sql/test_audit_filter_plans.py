"""The audit listing's actor, action and target filters read an index, not the whole trail
(migration 0025_audit_filter_indexes), on SQLite and PostgreSQL: checked with EXPLAIN on
the statements ``SqlAuditStore.list_entries`` runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from steward.adapters.sql import SqlStore
from steward.adapters.sql._audit import SqlAuditStore
from steward.adapters.sql._tables import audit_log
from steward.core import AuditEntry
from steward.governance import AuditQuery

N = 30_000


def _row(i: int) -> dict[str, Any]:  # Any: column values
    # a trail the server mostly writes: a rare actor and a rare target every 3,000 entries, a
    # rare action every 1,000, the rest runs.* (the chain's hashes do not matter to a listing)
    actor = "mallory" if i % 3_000 == 7 else ("server" if i % 10 else f"user{i % 7}")
    action = "auth.denied" if i % 1_000 == 3 else ("runs.create", "runs.end", "runs.log")[i % 3]
    target = f"models:/fraud/{i}" if i % 3_000 == 11 else f"runs:/{i % 97:032x}"
    return {
        "entry_id": i, "timestamp": 1_000 * i, "actor": actor, "action": action, "target": target,
        "details": {}, "prev_hash": "0" * 64, "hash": "0" * 64,
    }


@pytest.fixture
def trail(store_url: str) -> Iterator[tuple[SqlStore, list[tuple[str, Any]]]]:  # Any: DB-API parameters
    store = SqlStore(store_url)
    with store.engine.begin() as conn:
        for start in range(1, N + 1, 10_000):
            conn.execute(sa.insert(audit_log), [_row(i) for i in range(start, min(start + 10_000, N + 1))])
        conn.execute(sa.text("ANALYZE"))
    listings: list[tuple[str, Any]] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:  # Any: DB-API objects
        if "ORDER BY audit_log.entry_id" in statement:
            listings.append((statement, parameters))

    try:
        yield store, listings
    finally:
        store.close()


def _plan(store: SqlStore, statement: str, parameters: Any) -> str:  # Any: DB-API parameters
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return " / ".join(str(r[-1]) for r in cursor.fetchall())
        cursor.execute("EXPLAIN " + statement, parameters)
        return " / ".join(str(r[0]) for r in cursor.fetchall())
    finally:
        raw.close()


def _expected(query: AuditQuery) -> list[int]:
    ids = [
        i for i in range(1, N + 1)
        if (query.actor is None or _row(i)["actor"] == query.actor)
        and (query.action is None or str(_row(i)["action"]).startswith(query.action))
        and (query.target is None or str(_row(i)["target"]).startswith(query.target))
        and (query.cursor is None or (i < query.cursor if query.newest_first else i > query.cursor))
    ]
    return (ids[::-1] if query.newest_first else ids)[: query.limit]


SELECTIVE = [  # (query, the index its plan must read)
    (AuditQuery(actor="mallory", limit=101), "ix_audit_log_actor"),
    (AuditQuery(actor="mallory", newest_first=True, cursor=20_000, limit=101), "ix_audit_log_actor"),
    (AuditQuery(action="auth.denied", limit=101), "ix_audit_log_action"),
    (AuditQuery(action="auth.", newest_first=True, limit=11), "ix_audit_log_action"),
    (AuditQuery(actor="user3", action="auth.", limit=101), "ix_audit_log_a"),
    (AuditQuery(target="models:/fraud/", limit=101), "ix_audit_log_target"),
]


def test_selective_filters_read_their_index_and_a_dense_prefix_reads_the_primary_key_in_order(
    trail: tuple[SqlStore, list[tuple[str, Any]]],
) -> None:
    """One trail per database (30,000 entries), every case against it."""
    store, listings = trail
    for query, index in SELECTIVE:
        found: list[AuditEntry] = SqlAuditStore(store).list_entries(query)
        assert [e.entry_id for e in found] == _expected(query), query
        plan = _plan(store, *listings[-1])
        assert index in plan, (query, plan)
        assert "SCAN audit_log" not in plan and "Seq Scan" not in plan, (query, plan)
    # a dense prefix: read in id order and stop at a full page instead of sorting every match
    for newest_first in (False, True):
        query = AuditQuery(action="runs.", newest_first=newest_first, limit=101)
        assert [e.entry_id for e in SqlAuditStore(store).list_entries(query)] == _expected(query)
        plan = _plan(store, *listings[-1])
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, (query, plan)
