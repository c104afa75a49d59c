"""Streamed, mergeable summaries: parts merge into the whole, and match the in-memory statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.core import drift
from steward.errors import InvalidInputError
from steward.monitoring import (
    ArrowSource,
    CategorySummary,
    NumericSummary,
    ParquetSource,
    compare_summaries,
    numeric_edges,
    summarise,
)

KINDS = {"x": "numeric", "k": "categorical"}


def _table(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pa.Table:
    x = rng.normal(shift, 1.0, rows)
    return pa.table(
        {
            "x": pa.array(x, mask=rng.random(rows) < 0.05),
            "k": pa.array(rng.choice(["a", "b", "c", "d"], rows), mask=rng.random(rows) < 0.02),
        }
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 400), min_size=1, max_size=6))
def test_merging_the_summaries_of_parts_equals_the_summary_of_the_whole(seed: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(seed)
    whole = _table(rng, sum(sizes))
    source = ArrowSource(whole, "whole")
    edges = numeric_edges(source, ["x"])
    expected = summarise(source, KINDS, edges)
    parts, start = [], 0
    for size in sizes:
        part = whole.slice(start, size)
        parts.append(summarise(ArrowSource(part, "part"), KINDS, edges))
        start += size
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.rows == expected.rows
    mx, ex = merged.columns["x"], expected.columns["x"]
    assert isinstance(mx, NumericSummary) and isinstance(ex, NumericSummary)
    assert np.array_equal(mx.counts, ex.counts) and mx.missing == ex.missing and mx.count == ex.count
    assert np.allclose(mx.sums, ex.sums) and mx.mean == pytest.approx(ex.mean) and mx.m2 == pytest.approx(ex.m2)
    mk, ek = merged.columns["k"], expected.columns["k"]
    assert isinstance(mk, CategorySummary) and isinstance(ek, CategorySummary)
    assert (mk.counts, mk.other, mk.missing) == (ek.counts, ek.other, ek.missing)


def test_moments_from_the_stream_match_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(0, 1, 200_001)
    table = pa.table({"x": values})
    source = ArrowSource(table, "t")
    summary = summarise(source, {"x": "numeric"}, numeric_edges(source, ["x"])).columns["x"]
    assert isinstance(summary, NumericSummary)
    assert summary.mean == pytest.approx(values.mean(), rel=1e-12)
    assert summary.sd == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert summary.counts.sum() == values.size


def test_streamed_statistics_of_discrete_data_equal_the_in_memory_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ref_x, cur_x = rng.poisson(4, 50_000), rng.poisson(4.3, 40_000)
    ref_k, cur_k = rng.choice(list("abcdef"), 50_000), rng.choice(list("abcdefg"), 40_000)
    pq.write_table(pa.table({"x": ref_x, "k": ref_k}), tmp_path / "ref.parquet", row_group_size=7_000)
    pq.write_table(pa.table({"x": cur_x, "k": cur_k}), tmp_path / "cur.parquet", row_group_size=9_000)
    ref_src, cur_src = ParquetSource(tmp_path / "ref.parquet"), ParquetSource(tmp_path / "cur.parquet")
    edges = numeric_edges(ref_src, ["x"])
    ref, cur = summarise(ref_src, KINDS, edges), summarise(cur_src, KINDS, edges)
    report = compare_summaries(ref, cur, methods={"x": "ks", "k": "chi2"})
    by = {c.column: c for c in report.columns}
    exact_ks = drift.ks(ref_x, cur_x)
    assert by["x"].statistic == pytest.approx(exact_ks.statistic, abs=1e-12)
    assert by["x"].raw_p_value == pytest.approx(exact_ks.p_value, rel=1e-9)
    exact_chi = drift.chi_square(ref_k, cur_k)
    assert by["k"].statistic == pytest.approx(exact_chi.statistic, rel=1e-9)
    assert by["k"].unseen_share == pytest.approx(float(np.mean(cur_k == "g")))
    js = compare_summaries(ref, cur, methods={"k": "js"}).columns[1]
    assert js.statistic == pytest.approx(drift.jensen_shannon(ref_k, cur_k).statistic, abs=1e-9)
    w = compare_summaries(ref, cur, methods={"x": "wasserstein"}).columns[0]
    assert w.statistic == pytest.approx(drift.wasserstein(ref_x, cur_x).statistic / ref_x.std(ddof=1), rel=1e-6)


def test_streamed_statistics_of_continuous_data_are_close_to_the_in_memory_ones() -> None:
    rng = np.random.default_rng(9)
    ref_x, cur_x = rng.normal(0, 1, 100_000), rng.normal(0.1, 1.2, 80_000)
    ref_src, cur_src = ArrowSource(pa.table({"x": ref_x}), "r"), ArrowSource(pa.table({"x": cur_x}), "c")
    edges = numeric_edges(ref_src, ["x"])
    ref, cur = summarise(ref_src, {"x": "numeric"}, edges), summarise(cur_src, {"x": "numeric"}, edges)
    ks = compare_summaries(ref, cur, methods={"x": "ks"}).columns[0]
    assert ks.statistic == pytest.approx(drift.ks(ref_x, cur_x).statistic, abs=0.01)
    w = compare_summaries(ref, cur).columns[0]
    assert w.method == "wasserstein"
    assert w.statistic == pytest.approx(drift.wasserstein(ref_x, cur_x).statistic / ref_x.std(ddof=1), rel=0.03)


def test_category_counts_stay_bounded_with_the_rest_in_other() -> None:
    summary = CategorySummary(top_k=3)
    summary.update(pa.array(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e", None]))
    assert summary.counts == {"a": 5, "b": 4, "c": 3}
    assert (summary.other, summary.missing, summary.count, summary.rows) == (2, 1, 14, 15)


def test_summaries_on_different_edges_do_not_merge() -> None:
    with pytest.raises(InvalidInputError, match="different bin edges"):
        NumericSummary(np.array([0.0, 1.0])).merge(NumericSummary(np.array([0.0, 2.0])))


def test_reading_is_by_batch_and_memory_does_not_hold_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pq.write_table(_table(rng, 300_000), tmp_path / "big.parquet", row_group_size=50_000)
    source = ParquetSource(tmp_path / "big.parquet")
    sizes = [batch.num_rows for batch in source.batches(["x", "k"])]
    assert sum(sizes) == 300_000 and max(sizes) <= 65_536


def test_the_package_exports_exactly_its_public_names_each_documented() -> None:
    import inspect

    from steward import monitoring

    assert set(monitoring._LAZY) == set(monitoring.__all__)  # each name is imported when first used
    for name in monitoring.__all__:
        getattr(monitoring, name)
    public = {
        name
        for name, value in vars(monitoring).items()
        if not name.startswith("_") and str(getattr(value, "__module__", "")).startswith("steward.monitoring")
    }
    assert set(monitoring.__all__) == public
    for name in monitoring.__all__:
        value = getattr(monitoring, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), name
