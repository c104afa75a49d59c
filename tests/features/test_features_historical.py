"""Point-in-time retrieval: a hand-worked example, bad input, and a brute-force reference (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_testing import embedded, features, stats_view
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.errors import InvalidInputError, NotFoundError

T0 = datetime(2026, 1, 1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def test_the_hand_worked_example_keeps_every_row_in_order_without_the_future(tmp_path: Path) -> None:
    # customer 1: values at day 1 (=10), day 3 (=30), day 3 again written later (=31: the tie goes to the last row)
    # customer 2: one value at day 1 (=5); with a 10-day TTL it is gone by day 12
    source = write(tmp_path / "stats.parquet", [
        {"customer_id": 1, "ts": day(1), "txn_count": 10},
        {"customer_id": 1, "ts": day(3), "txn_count": 30},
        {"customer_id": 1, "ts": day(3), "txn_count": 31},
        {"customer_id": 2, "ts": day(1), "txn_count": 5},
    ])
    entities = pd.DataFrame({
        "customer_id": [1, 2, 1, 1, 3, 2, 2, 1],
        "event_timestamp": [day(0.5), day(1), day(1), day(2.9), day(5), day(11), day(12), day(3)],
        "label": list("abcdefgh"),
    })
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(source)])
        result = svc.historical(entities, ["stats:txn_count"]).to_pandas()
    assert list(result["label"]) == list("abcdefgh")  # every row, in order
    assert _nulls(result["txn_count"]) == [
        None,  # a: before any value
        5,  # b: at exactly the event time (counts)
        10,  # c
        10,  # d: day 3 is in its future
        None,  # e: customer 3 has no value
        5,  # f: 10 days old, the TTL bound is inclusive
        None,  # g: 11 days old, expired
        31,  # h: the tie at day 3 goes to the row written last
    ]


def test_a_created_time_column_breaks_ties_before_file_order(tmp_path: Path) -> None:
    source = write(tmp_path / "s.parquet", [
        {"customer_id": 1, "ts": day(1), "created": day(2), "txn_count": 1},
        {"customer_id": 1, "ts": day(1), "created": day(1), "txn_count": 2},
    ])
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(source, created="created")])
        got = svc.historical(pd.DataFrame({"customer_id": [1], "event_timestamp": [day(1)]}), ["stats:txn_count"])
    assert got.to_pandas()["txn_count"].tolist() == [1]


def test_ties_go_to_the_last_file_by_name_then_the_last_row_without_a_created_time(tmp_path: Path) -> None:
    # the retrieval packs (event time, file, row) into the ASOF join's key: the files are
    # written out of name order, and microseconds apart must not be mistaken for ties
    folder = tmp_path / "parts"
    folder.mkdir()
    write(folder / "b.parquet", [
        {"customer_id": 1, "ts": day(1), "txn_count": 20},
        {"customer_id": 1, "ts": day(1), "txn_count": 21},  # wins the day-1 tie: last row of the last file
        {"customer_id": 2, "ts": day(1) + timedelta(microseconds=1), "txn_count": 5},
    ])
    write(folder / "a.parquet", [
        {"customer_id": 1, "ts": day(1), "txn_count": 10},
        {"customer_id": 1, "ts": day(1), "txn_count": 11},
        {"customer_id": 2, "ts": day(1) + timedelta(microseconds=2), "txn_count": 6},
    ])
    rows = pd.DataFrame({
        "customer_id": [1, 2, 2, 2],
        "event_timestamp": [day(1), day(1), day(1) + timedelta(microseconds=1), day(2)],
    })
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(folder)])
        got = svc.historical(rows, ["stats:txn_count"]).to_pandas()
    assert _nulls(got["txn_count"]) == [21, None, 5, 6]


def test_entity_rows_from_a_parquet_file_or_folder_keep_their_order(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = write(tmp_path / "s.parquet", [{"customer_id": c, "ts": day(1), "txn_count": c * 10} for c in range(50)])
    customers = [(c * 7) % 50 for c in range(50)]
    table = pa.table({"customer_id": customers, "event_timestamp": [day(2)] * 50})
    pq.write_table(table, tmp_path / "entities.parquet", row_group_size=7)  # several row groups
    folder = tmp_path / "entities"
    folder.mkdir()
    pq.write_table(table.slice(25), folder / "b.parquet", row_group_size=4)
    pq.write_table(table.slice(0, 25), folder / "a.parquet", row_group_size=4)
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(source)])
        for entities in (tmp_path / "entities.parquet", folder):
            got = svc.historical(entities, ["stats:txn_count"]).to_pandas()
            assert got["customer_id"].tolist() == customers
            assert got["txn_count"].tolist() == [c * 10 for c in customers]


def _nulls(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else int(v) for v in series]


def test_bad_input_is_named(tmp_path: Path) -> None:
    source = write(tmp_path / "s.parquet", [{"customer_id": 1, "ts": day(1), "txn_count": 1}])
    rows = pd.DataFrame({"customer_id": [1], "event_timestamp": [day(2)]})
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(source)])
        with pytest.raises(InvalidInputError, match="unknown features: stats:nope, stats:other"):
            svc.historical(rows, ["stats:txn_count", "stats:nope", "stats:other"])
        with pytest.raises(NotFoundError, match="unknown feature views: ghost"):
            svc.historical(rows, ["ghost:x"])
        with pytest.raises(InvalidInputError, match="no join key customer_id") as missing_key:
            svc.historical(rows.rename(columns={"customer_id": "cid"}), ["stats:txn_count"])
        assert missing_key.value.field == "customer_id"
        with pytest.raises(InvalidInputError, match="no timestamp column event_timestamp"):
            svc.historical(rows.rename(columns={"event_timestamp": "t"}), ["stats:txn_count"])
        with pytest.raises(InvalidInputError, match="join key customer_id is VARCHAR"):
            svc.historical(rows.astype({"customer_id": str}), ["stats:txn_count"])
        with pytest.raises(InvalidInputError, match="not view:feature"):
            svc.historical(rows, ["txn_count"])
        # the source lacks its event-time column
        bad = write(tmp_path / "bad.parquet", [{"customer_id": 1, "when": day(1), "txn_count": 1}])
        svc.apply([stats_view(bad, name="nots")])
        with pytest.raises(InvalidInputError, match="view nots has no event-time column ts"):
            svc.historical(rows, ["nots:txn_count"])
        # declared int, stored as text
        text = write(tmp_path / "text.parquet", [{"customer_id": 1, "ts": day(1), "txn_count": "x"}])
        svc.apply([stats_view(text, name="texty")])
        with pytest.raises(InvalidInputError, match="declared int64 but its source column is VARCHAR"):
            svc.historical(rows, ["texty:txn_count"])
        # two views offering the same feature name
        svc.apply([stats_view(source, name="again")])
        with pytest.raises(InvalidInputError, match="txn_count comes from both stats and again"):
            svc.historical(rows, ["stats:txn_count", "again:txn_count"])


def reference(entities: pd.DataFrame, source: pd.DataFrame, ttl_days: int | None) -> list[object]:
    """The rule of core/features.py, one row at a time."""
    out: list[object] = []
    for _, row in entities.iterrows():
        cands = [
            (r.ts, i, r.txn_count) for i, r in enumerate(source.itertuples())
            if r.customer_id == row.customer_id and r.ts <= row.event_timestamp
            and (ttl_days is None or r.ts >= row.event_timestamp - timedelta(days=ttl_days))
        ]
        out.append(max(cands)[2] if cands else None)  # greatest event time, then the last row
    return out


rows_st = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20)), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source_rows=rows_st, entity_rows=rows_st, ttl=st.sampled_from([None, 2, 5]))
def test_retrieval_matches_a_brute_force_reference(
    tmp_path_factory: pytest.TempPathFactory, source_rows: list[tuple[int, int]], entity_rows: list[tuple[int, int]],
    ttl: int | None,
) -> None:
    tmp = tmp_path_factory.mktemp("pit")
    source = pd.DataFrame({
        "customer_id": [c for c, _ in source_rows], "ts": [day(d) for _, d in source_rows],
        "txn_count": list(range(len(source_rows))),
    })
    source.to_parquet(tmp / "s.parquet", index=False)
    entities = pd.DataFrame({"customer_id": [c for c, _ in entity_rows], "event_timestamp": [day(d) for _, d in entity_rows]})
    with embedded(tmp) as services:
        svc = features(services)
        svc.apply([stats_view(tmp / "s.parquet", ttl=None if ttl is None else f"{ttl}d")])
        got = svc.historical(entities, ["stats:txn_count"]).to_pandas()
    assert got["customer_id"].tolist() == entities["customer_id"].tolist()
    assert _nulls(got["txn_count"]) == reference(entities, source, ttl)


def test_a_result_written_to_parquet_registers_as_a_dataset_with_lineage_to_the_views(tmp_path: Path) -> None:
    source = write(tmp_path / "s.parquet", [{"customer_id": 1, "ts": day(1), "txn_count": 4}])
    rows = tmp_path / "rows.parquet"
    pd.DataFrame({"customer_id": [2, 1], "event_timestamp": [day(2), day(2)]}).to_parquet(rows, index=False)
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(source)])
        svc.apply([stats_view(source, ttl="3d")])  # version 2
        result = svc.historical(rows, ["stats:txn_count"], output=tmp_path / "out.parquet")
        assert (result.path, result.num_rows, result.views) == (str(tmp_path / "out.parquet"), 2, [("stats", 2)])
        assert _nulls(result.to_pandas()["txn_count"]) == [None, 4]
        version = svc.register_historical(result, "training")
        assert (version.name, version.num_rows) == ("training", 2)
        assert svc.lineage("training", version.version) == [("stats", 2)]
        assert "stats:2" in (version.description or "")


def test_dataset_version_and_sql_sources_follow_the_same_rule(tmp_path: Path) -> None:
    from features_testing import CUSTOMER
    from sqlalchemy import text

    from steward.features import Feature, FeatureSource, FeatureView

    frame = pd.DataFrame({"customer_id": [1, 1], "ts": [day(1), day(3)], "txn_count": [1, 3]})
    rows = pd.DataFrame({"customer_id": [1, 1], "event_timestamp": [day(2), day(4)]})
    with embedded(tmp_path) as services:
        services.data("tester").register("stats", frame)
        with services.store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE feature_src (customer_id INTEGER, ts TIMESTAMP, txn_count INTEGER)"))
            conn.execute(text("INSERT INTO feature_src VALUES (1, '2026-01-02 00:00:00', 1), (1, '2026-01-04 00:00:00', 3)"))
        svc = features(services)
        for kind, location in (("dataset", "stats:1"), ("sql", "SELECT customer_id, ts, txn_count FROM feature_src")):
            svc.apply([FeatureView(f"v_{kind}", entities=(CUSTOMER,), features=(Feature("txn_count", "int64"),),
                                   source=FeatureSource(kind, location, event_time="ts"))])
            got = svc.historical(rows, [f"v_{kind}:txn_count"]).to_pandas()
            assert _nulls(got["txn_count"]) == [1, 3], kind
        svc.apply([FeatureView("v_bad", entities=(CUSTOMER,), features=(Feature("txn_count", "int64"),),
                               source=FeatureSource("sql", "DELETE FROM feature_src", event_time="ts"))])
        with pytest.raises(InvalidInputError, match="one SELECT statement"):
            svc.historical(rows, ["v_bad:txn_count"])
