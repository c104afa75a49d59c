"""``--dask``: the summaries computed on a Dask cluster, one task per row group, equal the local ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steward.errors import InvalidInputError
from steward.monitoring import (
    ArrowSource,
    CategorySummary,
    DaskSummariser,
    EmbeddingSummary,
    NumericSummary,
    ParquetSource,
    numeric_edges,
    report,
    sample_rows,
    summarise,
)

distributed = pytest.importorskip("distributed")

KINDS = {"x": "numeric", "k": "categorical", "e": "embedding"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    # ":0": any free port; with None the scheduler binds 8787, which another cluster may hold
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as local:
        yield local.scheduler_address


def _write(path: Path, rng: np.random.Generator, n: int, shift: float = 0.0) -> Path:
    table = pa.table({
        "x": np.where(rng.random(n) < 0.02, np.nan, rng.normal(shift, 1, n)),
        "k": rng.choice(["a", "b", "c", "d"], n),
        "e": pa.FixedSizeListArray.from_arrays(pa.array(rng.normal(shift, 1, n * 4)), 4),
    })
    pq.write_table(table, path, row_group_size=3_000)  # 7 row groups: 7 tasks
    return path


def test_summaries_on_a_cluster_equal_the_local_ones(cluster: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "data.parquet", np.random.default_rng(0), 20_000)
    source = ParquetSource(path)
    edges = numeric_edges(source, ["x"])
    sample = sample_rows(source.num_rows(), 2_000, seed=3)
    local = summarise(source, KINDS, edges, sample=sample)
    with DaskSummariser(cluster) as on_dask:
        remote = on_dask(source, KINDS, edges, 10_000, sample)
        assert on_dask.parts == 7
    assert remote.rows == local.rows
    x, rx = local.columns["x"], remote.columns["x"]
    assert isinstance(x, NumericSummary) and isinstance(rx, NumericSummary)
    np.testing.assert_array_equal(x.counts, rx.counts)
    assert (x.count, x.missing) == (rx.count, rx.missing)
    assert rx.mean == pytest.approx(x.mean, abs=1e-12) and rx.m2 == pytest.approx(x.m2, rel=1e-12)
    np.testing.assert_allclose(rx.sums, x.sums, rtol=1e-12, atol=1e-9)
    k, rk = local.columns["k"], remote.columns["k"]
    assert isinstance(k, CategorySummary) and isinstance(rk, CategorySummary) and k.counts == rk.counts
    e, re_ = local.columns["e"], remote.columns["e"]
    assert isinstance(e, EmbeddingSummary) and isinstance(re_, EmbeddingSummary) and e.count == re_.count
    np.testing.assert_allclose(re_.sums, e.sums, rtol=1e-12)
    for name in KINDS:  # the same sampled rows, in the same order
        np.testing.assert_array_equal(np.asarray(local.sample[name]), np.asarray(remote.sample[name]))


def test_the_report_on_a_cluster_is_the_local_report(cluster: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ref, cur = _write(tmp_path / "ref.parquet", rng, 20_000), _write(tmp_path / "cur.parquet", rng, 20_000, 0.3)
    local = report(ref, cur)
    with DaskSummariser(cluster) as on_dask:
        remote = report(ref, cur, summarise_with=on_dask)
    assert remote.drifted == local.drifted == ["x", "e"]
    for a, b in zip(local.columns, remote.columns, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-9) and a.p_value == pytest.approx(b.p_value, rel=1e-9)
    assert local.multivariate is not None and remote.multivariate is not None
    assert remote.multivariate.roc_auc == pytest.approx(local.multivariate.roc_auc)


def test_dataset_versions_and_unreachable_schedulers_are_clear_errors(cluster: str) -> None:
    with DaskSummariser(cluster) as on_dask, pytest.raises(InvalidInputError, match="Parquet files"):
        on_dask(ArrowSource(pa.table({"x": [1.0]}), "t:1"), {"x": "numeric"}, {"x": np.zeros(0)}, 10, None)
    with pytest.raises(InvalidInputError, match="cannot reach the Dask scheduler"):
        DaskSummariser("tcp://127.0.0.1:1")


def test_the_cli_takes_dask_and_prints_the_local_verdicts(cluster: str, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from steward import Settings
    from steward.cli import app

    rng = np.random.default_rng(2)
    ref, cur = _write(tmp_path / "ref.parquet", rng, 8_000), _write(tmp_path / "cur.parquet", rng, 8_000, 0.3)
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update({"STEWARD_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": "250"})
    args = ["monitor", "report", "--reference", str(ref), "--current", str(cur), "--json", "--no-multivariate"]
    local = CliRunner().invoke(app, args, env=env)
    remote = CliRunner().invoke(app, [*args, "--dask", cluster], env=env)
    assert local.exit_code == remote.exit_code == 1, remote.output
    assert json.loads(remote.stdout)["drifted"] == json.loads(local.stdout)["drifted"] == ["x", "e"]
    refused = CliRunner().invoke(app, ["monitor", "report", "--reference", "t:1", "--current", str(cur), "--dask", cluster], env=env)
    assert refused.exit_code in (2, 3) and "Traceback" not in refused.output
