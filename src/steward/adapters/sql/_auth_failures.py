"""SQL implementation of the failed-login counts that every server replica shares."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from ._store import SqlStore
from ._tables_replicas import auth_failures

__all__ = ["SqlAuthFailureStore"]

_F = auth_failures.c


class SqlAuthFailureStore:
    """Failed logins on the metadata store's database (see :class:`~steward.governance._ports.AuthFailureStore`)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_failure(self, scope: str, key: str, at_ms: int, *, forget_before_ms: int) -> None:
        with self._store.write() as conn:
            # expired rows go with each new failure: the table holds one window's failures
            conn.execute(delete(auth_failures).where(_F.failed_at < forget_before_ms))
            conn.execute(insert(auth_failures).values(scope=scope, key=key[:200], failed_at=at_ms))

    def recent_failures(self, scope: str, key: str, since_ms: int, limit: int) -> list[int]:
        query = (
            select(_F.failed_at)
            .where(_F.scope == scope, _F.key == key[:200], _F.failed_at > since_ms)
            .order_by(_F.failed_at.desc())
            .limit(limit)
        )
        with self._store.read() as conn:
            return [int(at) for at in conn.execute(query).scalars()]
