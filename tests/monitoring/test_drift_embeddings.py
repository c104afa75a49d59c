"""Embedding columns: MMD against a brute-force computation, its permutation p-value, the
distances between the means, detection by type or declaration, and ragged vectors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from steward import Settings
from steward.cli import app
from steward.core.drift_embeddings import mean_distances, median_bandwidth, mmd_squared, mmd_test
from steward.errors import InvalidInputError
from steward.monitoring import report


def _brute_mmd(x: np.ndarray, y: np.ndarray, h: float) -> float:
    def k(a: np.ndarray, b: np.ndarray) -> float:
        return math.exp(-float(np.sum((a - b) ** 2)) / (2 * h * h))

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def _brute_median(pooled: np.ndarray) -> float:
    d = [float(np.linalg.norm(pooled[i] - pooled[j])) for i in range(len(pooled)) for j in range(i + 1, len(pooled))]
    d = [v for v in d if v > 0]
    return float(np.median(d))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), m=st.integers(2, 12), n=st.integers(2, 12), dim=st.integers(1, 5),
    shift=st.floats(0, 3),
)
def test_mmd_equals_the_brute_force_u_statistic(seed: int, m: int, n: int, dim: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(m, dim)), rng.normal(size=(n, dim)) + shift
    h = _brute_median(np.vstack([x, y]))
    assert median_bandwidth(np.vstack([x, y])) == pytest.approx(h, rel=1e-9)
    assert mmd_squared(x, y) == pytest.approx(_brute_mmd(x, y, h), rel=1e-7, abs=1e-10)
    assert mmd_squared(x, y, bandwidth=0.7) == pytest.approx(_brute_mmd(x, y, 0.7), rel=1e-7, abs=1e-10)


def test_the_permutation_p_value_is_roughly_uniform_without_a_change_and_tiny_with_one() -> None:
    rng = np.random.default_rng(0)
    nulls = [mmd_test(rng.normal(size=(60, 4)), rng.normal(size=(60, 4)), permutations=99, seed=s)[1] for s in range(40)]
    assert 0.3 < float(np.mean(nulls)) < 0.7
    assert sum(p <= 0.05 for p in nulls) <= 6  # about 2 of 40 expected
    assert min(nulls) >= 1 / 100  # a permutation p-value is never below 1/(1+P) unless beyond every shuffle
    statistic, p, _ = mmd_test(rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 0.8, permutations=99)
    assert statistic > 0 and p < 1e-4  # beyond every shuffle: the normal tail, below 1/100


def test_the_same_seed_gives_the_same_p_value_and_bad_input_is_refused() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    assert mmd_test(x, y, seed=4) == mmd_test(x, y, seed=4)
    with pytest.raises(InvalidInputError):
        mmd_test(x, rng.normal(size=(50, 4)))
    with pytest.raises(InvalidInputError):
        mmd_test(x[:1], y)
    with pytest.raises(InvalidInputError):
        mmd_test(x, y, permutations=3)


def test_distances_between_the_means() -> None:
    euclid, cosine = mean_distances([1.0, 0.0], [1.0, 1.0], [1.0, 3.0])
    assert euclid == pytest.approx(1.0 / 2.0)  # |(0, 1)| / sqrt(1 + 3)
    assert cosine == pytest.approx(1 - 1 / math.sqrt(2))
    unscaled, undefined = mean_distances([0.0, 0.0], [1.0, 1.0], [0.0, 0.0])
    assert unscaled == pytest.approx(math.sqrt(2)) and undefined == 0.0


def _vectors(rng: np.random.Generator, n: int, dim: int, shift: float = 0.0) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array((rng.normal(size=(n, dim)) + shift).ravel()), dim)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(2)
    n = 3_000
    tables = {
        "ref": {"e": _vectors(rng, n, 8), "x": rng.normal(size=n)},
        "same": {"e": _vectors(rng, n, 8), "x": rng.normal(size=n)},
        "moved": {"e": _vectors(rng, n, 8, 0.3), "x": rng.normal(size=n)},
    }
    paths = {}
    for name, columns in tables.items():
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(columns), paths[name])
    return paths


def test_a_list_of_floats_column_is_an_embedding_and_only_a_moved_one_drifts(files: dict[str, Path]) -> None:
    same = {c.column: c for c in report(files["ref"], files["same"]).columns}
    assert same["e"].kind == "embedding" and same["e"].method == "mmd" and same["e"].drifted is False
    moved = report(files["ref"], files["moved"])
    e = {c.column: c for c in moved.columns}["e"]
    assert moved.drifted == ["e"] and e.effect_size is not None and e.threshold is not None and e.effect_size > e.threshold
    assert e.embedding is not None and e.embedding["dimensions"] == 8
    assert e.embedding["euclidean"] == pytest.approx(0.3, abs=0.05)  # 0.3 per dimension over sqrt(8) spread
    assert moved.multivariate is not None and "e" not in moved.multivariate.features


def test_integer_lists_are_embeddings_only_when_declared(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for name in ("a", "b"):
        values = rng.integers(0, 5, size=(500, 4))
        pq.write_table(pa.table({"v": pa.array(values.tolist(), type=pa.list_(pa.int64()))}), tmp_path / f"{name}.parquet")
    declared = report(tmp_path / "a.parquet", tmp_path / "b.parquet", embeddings=["v"])
    assert declared.columns[0].kind == "embedding" and declared.columns[0].status == "ok"
    with pytest.raises(InvalidInputError, match="not a list of numbers"):
        pq.write_table(pa.table({"s": ["x"] * 10}), tmp_path / "s.parquet")
        report(tmp_path / "s.parquet", tmp_path / "s.parquet", embeddings=["s"])
    with pytest.raises(InvalidInputError, match="in neither table"):
        report(tmp_path / "a.parquet", tmp_path / "b.parquet", embeddings=["nope"])


def test_ragged_vectors_are_reported_invalid_with_a_message_not_drift(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    good = [list(rng.normal(size=3)) for _ in range(200)]
    ragged = [*good[:100], [1.0, 2.0], *good[100:]]
    pq.write_table(pa.table({"e": good, "x": rng.normal(size=200)}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"e": ragged[:200], "x": rng.normal(size=200)}), tmp_path / "cur.parquet")
    result = report(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    e = {c.column: c for c in result.columns}["e"]
    assert e.status == "invalid" and e.drifted is False
    assert "different lengths" in (e.message or "") and "current data" in (e.message or "")
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update({"STEWARD_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": "250"})
    cli = CliRunner().invoke(
        app, ["monitor", "report", "--reference", str(tmp_path / "ref.parquet"), "--current", str(tmp_path / "cur.parquet"), "--json"],
        env=env,
    )
    assert cli.exit_code == 0, cli.output
    assert {c["column"]: c["status"] for c in json.loads(cli.stdout)["columns"]}["e"] == "invalid"


def test_too_few_vectors_are_insufficient_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    pq.write_table(pa.table({"e": _vectors(rng, 20, 3)}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"e": _vectors(rng, 20, 3, 5.0)}), tmp_path / "b.parquet")
    column = report(tmp_path / "a.parquet", tmp_path / "b.parquet").columns[0]
    assert column.status == "insufficient_data" and column.drifted is False
