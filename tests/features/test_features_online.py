"""Materialisation and online lookup, on the SQLite file and on the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_testing import embedded, features, stats_view

from steward.errors import InvalidInputError, NotFoundError
from steward.features import FeatureService

T0 = datetime(2026, 1, 1)
REDIS = "redis://127.0.0.1:6379/9"  # a database of its own, away from anything else on the machine


def ms(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture(params=["sqlite", "redis"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeatureService]:
    overrides = {"online_store": REDIS} if request.param == "redis" else {}
    with embedded(tmp_path, **overrides) as services:
        svc = features(services)
        yield svc
        store = services.online_store()
        if hasattr(store, "delete_prefix"):
            store.delete_prefix()


def test_materialize_then_online_returns_latest_values_and_flags_missing_entities(service: FeatureService, tmp_path: Path) -> None:
    folder = tmp_path / "stats"
    folder.mkdir()
    pd.DataFrame({
        "customer_id": [1, 1, 2, 2],
        "ts": [T0, T0 + timedelta(days=2), T0, T0 + timedelta(days=9)],
        "txn_count": [1, 2, 10, 99],
    }).to_parquet(folder / "a.parquet", index=False)
    name = f"s{uuid.uuid4().hex[:8]}"
    service.apply([stats_view(folder, name=name, ttl=None)])
    done = service.materialize([name], start_ms=ms(T0), end_ms=ms(T0 + timedelta(days=5)))
    assert [(r.entities, r.written, r.newest_value_at) for r in done] == [(2, 2, ms(T0 + timedelta(days=2)))]
    got = service.online([{"customer_id": 1}, {"customer_id": 7}, {"customer_id": 2}], [f"{name}:txn_count"])
    assert [r["values"]["txn_count"] for r in got.rows] == [2, None, 10]  # day 9 is after the end
    assert [r["missing"] for r in got.rows] == [False, True, False]
    assert got.rows[1]["status"] == {name: "missing"} and got.rows[0]["event_times"] == {name: ms(T0 + timedelta(days=2))}
    # idempotent: the same interval again changes nothing
    assert service.materialize([name], start_ms=ms(T0), end_ms=ms(T0 + timedelta(days=5)))[0].written == 0
    # incremental: starts where the last run ended and picks up day 9 and a new file
    pd.DataFrame({"customer_id": [3], "ts": [T0 + timedelta(days=8)], "txn_count": [7]}).to_parquet(folder / "b.parquet", index=False)
    more = service.materialize([name], end_ms=ms(T0 + timedelta(days=10)), incremental=True)
    assert (more[0].start, more[0].entities, more[0].written) == (ms(T0 + timedelta(days=5)), 2, 2)
    got = service.online([{"customer_id": 1}, {"customer_id": 2}, {"customer_id": 3}], [f"{name}:txn_count"])
    assert [r["values"]["txn_count"] for r in got.rows] == [2, 99, 7]
    # an older interval never overwrites newer values
    service.materialize([name], start_ms=ms(T0), end_ms=ms(T0 + timedelta(days=1)))
    assert service.online([{"customer_id": 2}], [f"{name}:txn_count"]).rows[0]["values"]["txn_count"] == 99
    assert service.get_view(name).newest_value_at == ms(T0 + timedelta(days=9))


def test_values_older_than_the_ttl_come_back_expired(service: FeatureService, tmp_path: Path) -> None:
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the source
    pd.DataFrame({"customer_id": [1, 2], "ts": [now - timedelta(days=30), now - timedelta(hours=1)], "txn_count": [1, 2]}).to_parquet(
        tmp_path / "s.parquet", index=False)
    name = f"s{uuid.uuid4().hex[:8]}"
    service.apply([stats_view(tmp_path / "s.parquet", name=name, ttl="1d")])
    service.materialize([name])
    rows = service.online([{"customer_id": 1}, {"customer_id": 2}], [f"{name}:txn_count"]).rows
    assert [(r["status"][name], r["values"]["txn_count"]) for r in rows] == [("expired", None), ("present", 2)]
    fresh = {f["view"]: f for f in service.freshness()}[name]
    assert 3000 <= fresh["age_s"] <= 3600 + 120


def test_bad_lookups_are_named(service: FeatureService, tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": [1], "ts": [T0], "txn_count": [1]}).to_parquet(tmp_path / "s.parquet", index=False)
    name = f"s{uuid.uuid4().hex[:8]}"
    service.apply([stats_view(tmp_path / "s.parquet", name=name)])
    with pytest.raises(InvalidInputError, match="entity row 1 has no join key customer_id"):
        service.online([{"customer_id": 1}, {"cid": 2}], [f"{name}:txn_count"])
    with pytest.raises(InvalidInputError, match=f"unknown features: {name}:nope"):
        service.online([{"customer_id": 1}], [f"{name}:nope"])
    with pytest.raises(NotFoundError, match="unknown feature views: ghost"):
        service.online([{"customer_id": 1}], ["ghost:x"])
    with pytest.raises(InvalidInputError, match="start is after end"):
        service.materialize([name], start_ms=10, end_ms=5)


def test_a_serving_lookup_completes_rows_that_carry_only_keys(service: FeatureService, tmp_path: Path) -> None:
    from steward.features import FeatureLookup

    pd.DataFrame({"customer_id": [1], "ts": [T0], "txn_count": [5]}).to_parquet(tmp_path / "s.parquet", index=False)
    name = f"s{uuid.uuid4().hex[:8]}"
    service.apply([stats_view(tmp_path / "s.parquet", name=name, ttl=None)])
    service.materialize([name])
    lookup = FeatureLookup(service, [f"{name}:txn_count"])
    done = lookup.complete([{"customer_id": 1, "amount": 2.5}, {"customer_id": 2, "amount": 1.0}])
    assert done.rows == [{"customer_id": 1, "amount": 2.5, "txn_count": 5}, {"customer_id": 2, "amount": 1.0, "txn_count": None}]
    assert [u["missing"] for u in done.used] == [False, True]
    with pytest.raises(InvalidInputError, match="carries txn_count"):
        lookup.complete([{"customer_id": 1, "txn_count": 9}])


@pytest.mark.parametrize("url", ["sqlite:///:memory:", REDIS])
def test_both_stores_keep_the_newer_row_and_count_only_real_changes(url: str) -> None:
    from steward.adapters.online import open_online_store
    from steward.features import OnlineRow

    store = open_online_store(url)
    view = f"w{uuid.uuid4().hex[:8]}"
    try:
        assert store.write([OnlineRow(view, "[1]", 10, {"a": 1}), OnlineRow(view, "[2]", 10, {"a": 2})]) == 2
        assert store.write([OnlineRow(view, "[1]", 10, {"a": 1})]) == 0  # the same row again
        assert store.write([OnlineRow(view, "[1]", 5, {"a": 0})]) == 0  # older
        assert store.write([OnlineRow(view, "[1]", 10, {"a": 9})]) == 1  # corrected at the same time
        found = store.read([(view, "[1]"), (view, "[3]"), (view, "[2]")])
        assert [None if r is None else (r.event_ms, r.values) for r in found] == [(10, {"a": 9}), None, (10, {"a": 2})]
    finally:
        if hasattr(store, "delete_prefix"):
            store.delete_prefix()
        store.close()
