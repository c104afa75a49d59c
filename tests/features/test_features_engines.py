"""The two engines of point-in-time retrieval (numpy in memory, DuckDB out of core) and the
Dask path give the same frame: against the brute-force reference, and against each other on
random multi-view data (several TTLs, no TTL with values older than every entity row, nulls,
nanosecond times, keys outside the sources)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from features_testing import CUSTOMER, embedded, features, stats_view
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.errors import InvalidInputError
from steward.features import Feature, FeatureSource, FeatureView

T0 = datetime(2026, 1, 1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _values(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in series.tolist()]


def reference(entities: pd.DataFrame, source: pd.DataFrame, ttl_days: int | None) -> list[object]:
    out: list[object] = []
    for _, row in entities.iterrows():
        cands = [
            (r.ts, i, r.txn_count) for i, r in enumerate(source.itertuples())
            if r.customer_id == row.customer_id and r.ts <= row.event_timestamp
            and (ttl_days is None or r.ts >= row.event_timestamp - timedelta(days=ttl_days))
        ]
        out.append(max(cands)[2] if cands else None)
    return out


rows_st = st.lists(st.tuples(st.integers(-2, 3), st.integers(0, 20)), min_size=1, max_size=30)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source_rows=rows_st, entity_rows=rows_st, ttl=st.sampled_from([None, 2, 5]))
def test_both_engines_match_the_brute_force_reference(
    tmp_path_factory: pytest.TempPathFactory, source_rows: list[tuple[int, int]], entity_rows: list[tuple[int, int]],
    ttl: int | None,
) -> None:
    tmp = tmp_path_factory.mktemp("engines")
    source = pd.DataFrame({
        "customer_id": [c for c, _ in source_rows], "ts": [day(d) for _, d in source_rows],
        "txn_count": list(range(len(source_rows))),
    })
    source.to_parquet(tmp / "s.parquet", index=False)
    entities = pd.DataFrame({"customer_id": [c for c, _ in entity_rows], "event_timestamp": [day(d) for _, d in entity_rows]})
    expected = reference(entities, source, ttl)
    with embedded(tmp) as services:
        svc = features(services)
        svc.apply([stats_view(tmp / "s.parquet", ttl=None if ttl is None else f"{ttl}d")])
        for engine in ("memory", "duckdb"):
            got = svc.historical(entities, ["stats:txn_count"], engine=engine).to_pandas()
            assert got["customer_id"].tolist() == entities["customer_id"].tolist()
            assert _values(got["txn_count"]) == expected, engine


def _random_case(root: Path, seed: int) -> tuple[pd.DataFrame, list[FeatureView], list[str]]:
    rng = np.random.default_rng(seed)
    views, refs = [], []
    for v, ttl in enumerate(["3d", None, "1h", "10d"]):
        n = 400
        ts = pd.to_datetime(T0) + pd.to_timedelta(rng.integers(-20 * 86_400, 30 * 86_400, n), unit="s")
        ts = ts + pd.to_timedelta(rng.integers(0, 1000, n), unit="ns")  # sub-microsecond: truncated alike
        frame = pd.DataFrame({
            "customer_id": pd.array(rng.integers(-5, 40, n), dtype="Int64"),
            "ts": ts,
            f"f{v}": rng.normal(size=n),
            f"g{v}": rng.integers(0, 5, n),
        })
        frame.loc[rng.random(n) < 0.05, "customer_id"] = pd.NA
        frame.loc[rng.random(n) < 0.05, "ts"] = pd.NaT
        frame.loc[rng.random(n) < 0.05, f"f{v}"] = np.nan
        folder = root / f"v{v}"
        folder.mkdir()
        for part, start in enumerate(range(0, n, 150)):
            chunk = frame.iloc[start:start + 150]
            chunk.to_parquet(folder / f"part-{part}.parquet", index=False)
        views.append(FeatureView(
            f"v{v}", entities=(CUSTOMER,), ttl=ttl, source=FeatureSource("parquet", str(folder), event_time="ts"),
            features=(Feature(f"f{v}", "float64"), Feature(f"g{v}", "float64" if v % 2 else "int64")),
        ))
        refs += [f"v{v}:f{v}", f"v{v}:g{v}"]
    m = 2000
    entities = pd.DataFrame({
        "customer_id": rng.integers(-10, 50, m),
        "event_timestamp": pd.to_datetime(T0) + pd.to_timedelta(rng.integers(0, 40 * 86_400_000_000, m), unit="us"),
        "label": np.arange(m),
    })
    return entities, views, refs


@pytest.mark.parametrize("seed", [1, 2])
def test_the_engines_agree_on_random_multi_view_data(tmp_path: Path, seed: int) -> None:
    entities, views, refs = _random_case(tmp_path, seed)
    entities.to_parquet(tmp_path / "entities.parquet", index=False)
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply(views)
        ours = svc.historical(entities, refs, engine="memory").to_pandas()
        duck = svc.historical(entities, refs, engine="duckdb").to_pandas()
        from_file = svc.historical(tmp_path / "entities.parquet", refs, engine="memory", output=tmp_path / "o.parquet")
    assert len(ours) == len(entities) and ours["label"].tolist() == list(range(len(entities)))
    names = [r.split(":")[1] for r in refs]
    for name in names:
        assert _values(ours[name]) == _values(duck[name]), name
    written = pd.read_parquet(tmp_path / "o.parquet")
    for name in names:
        assert _values(written[name]) == _values(duck[name]), name
    assert from_file.num_rows == len(entities)
    assert all(0 < ours[name].notna().sum() < len(entities) for name in names)  # values and nulls in every column


def test_the_memory_engine_is_refused_where_it_cannot_run_and_auto_falls_back(tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": ["a"], "ts": [day(1)], "txn_count": [1]}).to_parquet(tmp_path / "s.parquet", index=False)
    rows = pd.DataFrame({"customer_id": ["a", "b"], "event_timestamp": [day(2), day(2)]})
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(tmp_path / "s.parquet")])
        with pytest.raises(InvalidInputError, match="cannot run in memory"):
            svc.historical(rows, ["stats:txn_count"], engine="memory")
        assert _values(svc.historical(rows, ["stats:txn_count"]).to_pandas()["txn_count"]) == [1, None]
        with pytest.raises(InvalidInputError, match="engine"):
            svc.historical(rows, ["stats:txn_count"], engine="spark")


def test_dask_on_a_local_cluster_equals_the_local_result(tmp_path: Path) -> None:
    entities, views, refs = _random_case(tmp_path, 3)
    entities.to_parquet(tmp_path / "entities.parquet", index=False)
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply(views)
        local = svc.historical(entities, refs).to_pandas()
        spread = svc.historical(tmp_path / "entities.parquet", refs, dask="local").to_pandas()
        with pytest.raises(InvalidInputError, match="join key"):  # refused before any task is sent
            svc.historical(entities.rename(columns={"customer_id": "c"}), refs, dask="local")
    assert spread["label"].tolist() == local["label"].tolist()
    for ref in refs:
        name = ref.split(":")[1]
        assert _values(spread[name]) == _values(local[name]), name
