"""Leases: one holder at a time per key (a deployment's rollout controller, a monitor's runner).

A lease row is (key, holder, expires_at, acquired_at). Taking it is one conditional UPDATE
(renewal by the holder, or take-over of an expired lease) and, when there is no row yet,
one INSERT that loses to a concurrent one: both atomic on SQLite and PostgreSQL, so
exactly one holder wins.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, delete, select, update

from ._store import SqlStore

__all__ = ["acquire_lease", "release_lease"]


def acquire_lease(store: SqlStore, table: Table, key: Column[str], name: str, holder: str, now: int, ttl_ms: int) -> bool:
    """Take or renew the lease on ``name`` for ``ttl_ms``; False when another holder has it."""
    c = table.c
    expires = now + ttl_ms
    with store.write() as conn:
        taken = conn.execute(
            update(table)
            .where(key == name, (c.holder == holder) | (c.expires_at <= now))
            .values(holder=holder, expires_at=expires, acquired_at=now)
        )
        if taken.rowcount == 1:
            return True
        if conn.execute(select(c.holder).where(key == name)).first() is not None:
            return False
        stmt = store._upsert(table).values({key.name: name, "holder": holder, "expires_at": expires, "acquired_at": now})
        # RETURNING, not rowcount: psycopg reports no rowcount for ON CONFLICT DO NOTHING
        inserted = conn.execute(stmt.on_conflict_do_nothing(index_elements=[key.name]).returning(c.holder))
        return inserted.first() is not None


def release_lease(store: SqlStore, table: Table, key: Column[str], name: str, holder: str) -> None:
    """Give the lease on ``name`` back, if ``holder`` still has it."""
    with store.write() as conn:
        conn.execute(delete(table).where(key == name, table.c.holder == holder))
