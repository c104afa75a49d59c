"""The file-pair drift report: verdicts, sensitivity and bad input with clear messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steward.errors import InvalidInputError, NotFoundError
from steward.monitoring import report


def _write(path: Path, columns: dict[str, object]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    n = 20_000
    ref = {
        "stable": rng.normal(0, 1, n),
        "shifted": rng.normal(0, 1, n),
        "tiny": rng.normal(0, 1, n),
        "colour": rng.choice(["a", "b", "c", "d"], n, p=[0.1, 0.3, 0.3, 0.3]),
        "many": rng.choice([f"v{i}" for i in range(1000)], n),
    }
    cur = {
        "stable": rng.normal(0, 1, n),
        "shifted": rng.normal(0.3, 1, n),
        "tiny": rng.normal(0.01, 1, n),  # significant at most at this size, and trivial
        "colour": rng.choice(["a", "b", "c", "d"], n, p=[0.2, 0.8 / 3, 0.8 / 3, 0.8 / 3]),
        "many": rng.choice([f"v{i}" for i in range(1000)], n),
    }
    return _write(tmp_path / "ref.parquet", ref), _write(tmp_path / "cur.parquet", cur)


def test_only_the_columns_that_changed_significantly_and_enough_are_flagged(pair: tuple[Path, Path]) -> None:
    result = report(*pair)
    assert result.drifted == ["shifted", "colour"]
    assert result.drift_share == pytest.approx(2 / 5)
    by = {c.column: c for c in result.columns}
    assert by["shifted"].method == "wasserstein" and by["colour"].method == "js"
    assert by["many"].drifted is False  # 1,000 categories: a noisy JS, not a significant change
    for column in result.columns:
        assert column.p_value is not None and column.raw_p_value is not None
        assert column.p_value >= column.raw_p_value  # adjusted for five columns


def test_the_same_data_shows_no_drift(pair: tuple[Path, Path]) -> None:
    result = report(pair[0], pair[0])
    assert result.drifted == [] and result.drift_share == 0.0 and result.compared == 5


def test_high_sensitivity_lowers_the_thresholds_but_still_needs_significance(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 200_000
    ref = _write(tmp_path / "r.parquet", {"x": rng.normal(0, 1, n), "y": rng.normal(0, 1, n)})
    cur = _write(tmp_path / "c.parquet", {"x": rng.normal(0.05, 1, n), "y": rng.normal(0, 1, n)})
    assert report(ref, cur).drifted == []
    assert report(ref, cur, sensitivity="high").drifted == ["x"]
    with pytest.raises(InvalidInputError, match="unknown sensitivity"):
        report(ref, cur, sensitivity="extreme")


def test_too_few_rows_is_insufficient_data_never_drift(tmp_path: Path) -> None:
    ref = _write(tmp_path / "r.parquet", {"x": np.arange(1000.0)})
    cur = _write(tmp_path / "c.parquet", {"x": np.arange(10.0) + 5000})
    (column,) = report(ref, cur).columns
    assert column.status == "insufficient_data" and column.drifted is False
    assert "at least 30" in (column.message or "")


def test_an_all_null_column_is_reported_and_its_missing_share_change_flagged(tmp_path: Path) -> None:
    n = 500
    ref = _write(tmp_path / "r.parquet", {"x": np.arange(float(n)), "k": ["a", "b"] * (n // 2)})
    cur = _write(tmp_path / "c.parquet", {"x": pa.nulls(n, pa.float64()), "k": ["a", "b"] * (n // 2)})
    result = report(ref, cur)
    by = {c.column: c for c in result.columns}
    assert by["x"].status == "all_null" and "every value of 'x' in the current data is missing" in (by["x"].message or "")
    assert by["x"].missing_drifted and by["x"].drifted
    assert by["x"].missing_reference == 0.0 and by["x"].missing_current == 1.0
    assert result.compared == 1 and result.drifted == ["x"]


def test_columns_on_one_side_only_and_changed_types_are_named(tmp_path: Path) -> None:
    ref = _write(tmp_path / "r.parquet", {"a": np.arange(100.0), "gone": np.arange(100.0), "t": np.arange(100.0)})
    cur = _write(tmp_path / "c.parquet", {"a": np.arange(100.0), "new": np.arange(100.0), "t": [str(i) for i in range(100)]})
    by = {c.column: c for c in report(ref, cur).columns}
    assert by["new"].status == "missing_in_reference"
    assert by["new"].message == "column 'new' is in the current data but not in the reference; nothing to compare it with"
    assert by["gone"].status == "missing_in_current"
    assert by["t"].status == "type_mismatch" and "numeric in the reference but categorical" in (by["t"].message or "")
    assert not any(c.drifted for c in by.values())


def test_an_empty_file_a_missing_file_and_a_non_parquet_file_have_clear_messages(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.parquet", {"x": np.arange(100.0)})
    empty = _write(tmp_path / "empty.parquet", {"x": pa.array([], pa.float64())})
    with pytest.raises(InvalidInputError, match="the current data .*empty.parquet' has no rows"):
        report(good, empty)
    with pytest.raises(NotFoundError, match="no such file or dataset version: .*nope.parquet"):
        report(good, tmp_path / "nope.parquet")
    text = tmp_path / "notes.parquet"
    text.write_text("not parquet")
    with pytest.raises(InvalidInputError, match="is not a readable Parquet file"):
        report(text, good)


def test_a_method_override_is_used_and_checked(pair: tuple[Path, Path]) -> None:
    result = report(*pair, methods={"stable": "psi", "colour": "chi2"})
    by = {c.column: c for c in result.columns}
    assert by["stable"].method == "psi" and by["colour"].method == "chi2"
    with pytest.raises(InvalidInputError, match="does not suit a categorical column"):
        report(*pair, methods={"colour": "ks"})
    with pytest.raises(InvalidInputError, match="unknown column"):
        report(*pair, methods={"nope": "ks"})
