"""Online lookups of several views at once (each row's views present, expired or missing in
any mix), on SQLite and the real Redis; and a SQLite online store of the first layout,
moved to the current one when opened."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_testing import embedded, features, stats_view

from steward.features import FeatureService, OnlineRow

REDIS = "redis://127.0.0.1:6379/9"


def ms(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture(params=["sqlite", "redis"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeatureService]:
    overrides = {"online_store": REDIS} if request.param == "redis" else {}
    with embedded(tmp_path, **overrides) as services:
        yield features(services)
        store = services.online_store()
        if hasattr(store, "delete_prefix"):
            store.delete_prefix()


def test_rows_mixing_present_expired_and_missing_views_are_answered_view_by_view(service: FeatureService, tmp_path: Path) -> None:
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the sources
    fresh, old = now - timedelta(hours=1), now - timedelta(days=3)
    tag = uuid.uuid4().hex[:6]
    a, b, c = f"a{tag}", f"b{tag}", f"c{tag}"
    # customer 1: all fresh; 2: a fresh, b expired, c never; 3: all expired; 5: a and c fresh, b never
    pd.DataFrame({"customer_id": [1, 2, 3, 5], "ts": [fresh, fresh, old, fresh], "a1": [10, 20, 30, 50], "a2": [11, 21, 31, 51]}).to_parquet(
        tmp_path / "a.parquet", index=False)
    pd.DataFrame({"customer_id": [1, 2, 3], "ts": [fresh, old, old], "b1": [12, 22, 32]}).to_parquet(tmp_path / "b.parquet", index=False)
    pd.DataFrame({"customer_id": [1, 3, 5], "ts": [fresh, old, fresh], "c1": [13, 33, 53]}).to_parquet(tmp_path / "c.parquet", index=False)
    service.apply([
        stats_view(tmp_path / "a.parquet", name=a, ttl="1d", features=("a1", "a2")),
        stats_view(tmp_path / "b.parquet", name=b, ttl="1d", features=("b1",)),
        stats_view(tmp_path / "c.parquet", name=c, ttl="1d", features=("c1",)),
    ])
    service.materialize([a, b, c])
    asked = [{"customer_id": k} for k in (1, 2, 3, 4, 5)]
    P, E, M = "present", "expired", "missing"
    expected_status = [(P, P, P), (P, E, M), (E, E, E), (M, M, M), (P, M, P)]
    expected_times = [
        (ms(fresh), ms(fresh), ms(fresh)), (ms(fresh), ms(old), None), (ms(old), ms(old), ms(old)), (None, None, None),
        (ms(fresh), None, ms(fresh)),
    ]
    every = {
        "a1": [10, 20, None, None, 50], "a2": [11, 21, None, None, 51], "b1": [12, None, None, None, None], "c1": [13, None, None, None, 53],
    }
    # all features of each view (values copied whole), then a subset of one view's (picked)
    for refs in ([f"{a}:a1", f"{a}:a2", f"{b}:b1", f"{c}:c1"], [f"{c}:c1", f"{a}:a2", f"{b}:b1"]):
        got = service.online(asked, refs)
        names = [r.split(":")[1] for r in refs]
        for i, row in enumerate(got.rows):
            assert row["entity"] == asked[i]
            assert row["values"] == {n: every[n][i] for n in names}
            assert row["status"] == dict(zip((a, b, c), expected_status[i], strict=True))
            assert row["event_times"] == dict(zip((a, b, c), expected_times[i], strict=True))
            assert row["missing"] == (expected_status[i] != (P, P, P))
        assert [list(row["values"]) for row in got.rows] == [names] * len(asked)  # in the order asked


def test_a_sqlite_store_of_the_first_layout_is_moved_when_opened(tmp_path: Path) -> None:
    from steward.adapters.online import SqliteOnlineStore

    path = tmp_path / "online.db"
    with sqlite3.connect(path) as conn:  # the first layout, as an earlier version wrote it
        conn.execute(
            "CREATE TABLE online_features (view TEXT NOT NULL, entity_key TEXT NOT NULL, event_ms INTEGER NOT NULL, "
            "payload TEXT NOT NULL, PRIMARY KEY (view, entity_key)) WITHOUT ROWID"
        )
        conn.executemany("INSERT INTO online_features VALUES (?, ?, ?, ?)", [
            ("v", "[1]", 10, '{"x":1.5}'), ("v", "[2]", 20, '{"x":NaN}'), ("w", "[1]", 30, '{"y":"s"}'),
        ])
    store = SqliteOnlineStore(str(path))
    try:
        grid = store.read_grid(["v", "w"], ["[1]", "[2]", "[3]"])
        assert grid[:2] == [[10, {"x": 1.5}], [30, {"y": "s"}]]
        assert grid[2][0] == 20 and grid[2][1]["x"] != grid[2][1]["x"]  # NaN, read back by the standard decoder
        assert grid[3:] == [None, None, None]
        assert [None if r is None else (r.event_ms, r.values) for r in store.read([("w", "[1]"), ("w", "[2]")])] == [(30, {"y": "s"}), None]
        assert store.write([OnlineRow("v", "[1]", 5, {"x": 0.0})]) == 0  # older than the moved row
        assert store.write([OnlineRow("v", "[1]", 11, {"x": 2.5})]) == 1
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"online_cells"}
    again = SqliteOnlineStore(str(path))  # opening again moves nothing and keeps the rows
    try:
        assert again.read_grid(["v"], ["[1]"]) == [[11, {"x": 2.5}]]
    finally:
        again.close()
