"""The embedded online store: one SQLite table keyed by (view, entity key).

A write batch is one transaction, and each row replaces the stored one only when its
event time is not older (``ON CONFLICT ... WHERE``), so a killed materialisation leaves
every entity row either as it was or as written, and re-running it changes nothing (a row is replaced by a newer event time, or by
other values at the same event time: a corrected source).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from steward.errors import StorageError
from steward.features._ports import OnlineRow

from ._encoding import encoded_by_view

__all__ = ["SqliteOnlineStore"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS online_features (view TEXT NOT NULL, entity_key TEXT NOT NULL, "
    "event_ms INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (view, entity_key)) WITHOUT ROWID"
)
_UPSERT = (
    "INSERT INTO online_features (view, entity_key, event_ms, payload) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (view, entity_key) DO UPDATE SET event_ms = excluded.event_ms, payload = excluded.payload "
    "WHERE excluded.event_ms > online_features.event_ms "
    "OR (excluded.event_ms = online_features.event_ms AND excluded.payload <> online_features.payload)"
)
_BATCH = 900  # keys per lookup statement, well under SQLite's 32,766 parameters


class SqliteOnlineStore:
    """Online values in a SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"the online store cannot be opened: {exc}") from exc
        self._lock = threading.Lock()  # one connection shared by the server's threads

    def write(self, rows: Sequence[OnlineRow]) -> int:
        return sum(self.write_json(view, encoded) for view, encoded in encoded_by_view(rows).items())

    def write_json(self, view: str, rows: Sequence[tuple[str, int, str]]) -> int:
        if not rows:
            return 0
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                before = self._conn.total_changes
                self._conn.executemany(_UPSERT, [(view, key, event_ms, payload) for key, event_ms, payload in rows])
                changed = self._conn.total_changes - before
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StorageError(f"the online store refused the write: {exc}") from exc
        return changed

    def read(self, keys: Sequence[tuple[str, str]]) -> list[OnlineRow | None]:
        found: dict[tuple[str, str], OnlineRow] = {}
        by_view: dict[str, list[str]] = {}
        for view, key in dict.fromkeys(keys):
            by_view.setdefault(view, []).append(key)
        with self._lock:
            try:
                for view, wanted in by_view.items():
                    for start in range(0, len(wanted), _BATCH):
                        chunk = wanted[start:start + _BATCH]
                        # one primary-key range per statement: (view = ? AND entity_key IN (...)) uses the index
                        sql = (
                            "SELECT entity_key, event_ms, payload FROM online_features "
                            f"WHERE view = ? AND entity_key IN ({', '.join('?' * len(chunk))})"
                        )
                        for key, event_ms, payload in self._conn.execute(sql, [view, *chunk]):
                            found[(view, key)] = OnlineRow(view, key, int(event_ms), json.loads(payload))
            except sqlite3.Error as exc:
                raise StorageError(f"the online store cannot be read: {exc}") from exc
        return [found.get(k) for k in keys]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
