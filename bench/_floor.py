"""Hardware floor for metric ingestion: a bare sqlite3 ``executemany``.

Any tracker that stores metrics in SQLite cannot beat this by much, so
``bench/tracking.py`` reports it next to Steward's and MLflow's figures.
Standard library only; runs in any interpreter.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE metrics (run_id TEXT, key TEXT, value REAL, step INTEGER, timestamp INTEGER)"
)
_INSERT = "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)"


def _rows(n_rows: int) -> list[tuple[str, str, float, int, int]]:
    """``n_rows`` rows shaped like the benchmark: 10 runs x 10 keys x steps."""
    rng = random.Random(0)
    base_ts = 1_700_000_000_000
    return [
        (f"run{i % 10:02d}", f"m{(i // 10) % 10}", rng.random(), i // 100, base_ts + i // 100)
        for i in range(n_rows)
    ]


def _remove_db(path: Path) -> None:
    """Delete a SQLite file and its WAL/SHM side files if present."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _one_pass(path: Path, rows: list[tuple[str, str, float, int, int]]) -> float:
    """Fresh WAL db at ``path``; time ``executemany`` + ``commit`` of ``rows``."""
    _remove_db(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_SCHEMA)
        conn.commit()
        t0 = time.perf_counter()
        conn.executemany(_INSERT, rows)
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()
        _remove_db(path)


def sqlite_executemany_floor(
    n_rows: int = 100_000, path: str | os.PathLike[str] | None = None
) -> float:
    """Median seconds (of 3) to ``executemany`` ``n_rows`` metric rows and commit.

    Each pass uses a fresh WAL-mode database file at ``path`` (default: a
    temporary directory), SQLite's default ``synchronous`` setting, and rows
    built before the clock starts. The file is removed afterwards.
    """
    rows = _rows(n_rows)
    if path is not None:
        return statistics.median(_one_pass(Path(path), rows) for _ in range(3))
    with tempfile.TemporaryDirectory(prefix="steward-floor-") as tmp:
        db = Path(tmp) / "floor.db"
        return statistics.median(_one_pass(db, rows) for _ in range(3))


if __name__ == "__main__":
    print(f"sqlite executemany floor, 100,000 rows: {sqlite_executemany_floor():.4f} s")
