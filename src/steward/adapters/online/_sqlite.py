"""The embedded online store: one SQLite table keyed by (entity key, view).

A write batch is one transaction, and each row replaces the stored one only when its
event time is not older (``ON CONFLICT ... WHERE``), so a killed materialisation leaves
every entity row either as it was or as written, and re-running it changes nothing (a row is replaced by a newer event time, or by
other values at the same event time: a corrected source).

Layout (``online_cells``): the key is (entity key, view), so one entity's views sit side
by side in one leaf page and a lookup of 100 entities in 10 views reads about 100 pages,
not 1,000; each row keeps its answer preformatted (``cell``: ``[event_ms, {values}]``), so
a lookup is one statement concatenating cells and one orjson decode, no per-row work. A
store of the first layout (``online_features``, keyed by (view, entity key), values without
the event time) is moved into this one when opened, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from steward.errors import StorageError
from steward.features._ports import OnlineRow

from ._encoding import encoded_by_view, grouped_lookups

__all__ = ["SqliteOnlineStore"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS online_cells (entity_key TEXT NOT NULL, view TEXT NOT NULL, "
    "event_ms INTEGER NOT NULL, cell TEXT NOT NULL, PRIMARY KEY (entity_key, view)) WITHOUT ROWID"
)
_OLD = "online_features"  # the first layout, moved on open
_MOVE = (
    "INSERT INTO online_cells (entity_key, view, event_ms, cell) "
    "SELECT entity_key, view, event_ms, '[' || event_ms || ',' || payload || ']' FROM online_features WHERE true "
    "ORDER BY entity_key, view ON CONFLICT DO NOTHING"
)
_UPSERT = (
    "INSERT INTO online_cells (entity_key, view, event_ms, cell) VALUES (?2, ?1, ?3, '[' || ?3 || ',' || ?4 || ']') "
    "ON CONFLICT (entity_key, view) DO UPDATE SET event_ms = excluded.event_ms, cell = excluded.cell "
    "WHERE excluded.event_ms > online_cells.event_ms "
    "OR (excluded.event_ms = online_cells.event_ms AND excluded.cell <> online_cells.cell)"
)
# one statement for a lookup whatever its size (the text never changes, so the prepared
# statement is reused): keys x views as a nested loop (CROSS JOIN fixes SQLite's join order,
# so rows come entity-major and an entity's views are probed in one leaf page), each pair
# one primary-key probe, the stored cells concatenated by SQLite into one JSON array that
# one orjson call decodes
_GRID = (
    "SELECT '[' || group_concat(coalesce(f.cell, 'null')) || ']' "
    "FROM json_each(?) AS k CROSS JOIN json_each(?) AS v "
    "LEFT JOIN online_cells AS f ON f.entity_key = k.value AND f.view = v.value"
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
            self._move_first_layout()
        except sqlite3.Error as exc:
            raise StorageError(f"the online store cannot be opened: {exc}") from exc
        self._lock = threading.Lock()  # one connection shared by the server's threads

    def _move_first_layout(self) -> None:
        """Rows of the first layout into ``online_cells``, its table dropped, in one
        transaction (a store opened by two processes at once moves once)."""
        if not self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_OLD,)).fetchone():
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_OLD,)).fetchone():
                self._conn.execute(_MOVE)
                self._conn.execute(f"DROP TABLE {_OLD}")
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            self._conn.execute("ROLLBACK")
            raise

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
        with self._lock:
            try:
                for views, wanted in grouped_lookups(keys):
                    for start in range(0, len(wanted), _BATCH):
                        chunk = wanted[start:start + _BATCH]
                        # one statement per group of views and up to _BATCH keys: the primary
                        # key's (view IN, entity_key IN) probes; SQLite concatenates the rows
                        # into one JSON text, decoded by one orjson call (no per-row Python)
                        sql = (
                            "SELECT '[' || group_concat('[' || json_quote(view) || ',' || json_quote(entity_key) || ',' || cell || ']') || ']' "
                            f"FROM online_cells WHERE view IN ({', '.join('?' * len(views))}) "
                            f"AND entity_key IN ({', '.join('?' * len(chunk))})"
                        )
                        text = self._conn.execute(sql, [*views, *chunk]).fetchone()[0]
                        if text is not None:
                            for view, key, (event_ms, values) in _decoded(text):
                                found[(view, key)] = OnlineRow(view, key, event_ms, values)
            except sqlite3.Error as exc:
                raise StorageError(f"the online store cannot be read: {exc}") from exc
        return [found.get(k) for k in keys]

    def read_grid(self, views: Sequence[str], keys: Sequence[str]) -> list[Any]:  # Any: [event_ms, values] or None
        if not views or not keys:
            return []
        with self._lock:
            try:
                text = self._conn.execute(_GRID, [orjson.dumps(list(keys)).decode(), orjson.dumps(list(views)).decode()]).fetchone()[0]
            except sqlite3.Error as exc:
                raise StorageError(f"the online store cannot be read: {exc}") from exc
        return _decoded(text)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _decoded(text: str) -> list[list[Any]]:  # Any: JSON values
    """The rows of one lookup statement; rows written before values were encoded by orjson
    may hold ``NaN``, which only the standard library's decoder reads."""
    try:
        rows: list[list[Any]] = orjson.loads(text)
    except orjson.JSONDecodeError:
        rows = json.loads(text)
    return rows
