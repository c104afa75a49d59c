"""Training/serving skew: suite applied to current data plus per-feature distances."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from steward.core import drift
from steward.data import infer_suite, skew
from steward.wiring import Services


@pytest.fixture
def reference() -> pl.DataFrame:
    rng = np.random.default_rng(1)
    return pl.DataFrame({"x": rng.normal(0, 1, 5000), "c": rng.choice(["a", "b", "c"], 5000), "n": rng.integers(0, 10, 5000)})


def test_identical_data_shows_no_skew(reference: pl.DataFrame) -> None:
    result = skew(reference, reference, infer_suite(reference, "s"))
    assert result.passed and result.drifted == []
    assert {f.column: f.kind for f in result.features} == {"x": "numeric", "c": "categorical", "n": "numeric"}
    assert all(f.psi == pytest.approx(0.0, abs=1e-9) for f in result.features)


def test_a_shifted_feature_is_flagged_with_the_same_numbers_as_core_drift(reference: pl.DataFrame) -> None:
    current = reference.with_columns(pl.col("x") + 1.0)
    result = skew(reference, current)
    (x,) = [f for f in result.features if f.column == "x"]
    assert result.drifted == ["x"] and not result.passed
    assert x.psi == pytest.approx(drift.psi(reference["x"].to_numpy(), current["x"].to_numpy()).statistic)
    assert x.test == "ks" and x.p_value is not None and x.p_value < 1e-6


def test_a_new_category_in_serving_data_fails_the_suite_and_moves_the_distance(reference: pl.DataFrame) -> None:
    current = reference.with_columns(pl.when(pl.col("n") < 5).then(pl.lit("z")).otherwise(pl.col("c")).alias("c"))
    result = skew(reference, current, infer_suite(reference, "s"))
    assert result.validation is not None and not result.validation.passed
    assert [c.name for c in result.validation.failures] == ["allowed"]
    assert "c" in result.drifted
    (c,) = [f for f in result.features if f.column == "c"]
    assert c.test == "chi2" and c.p_value is not None and c.p_value < 1e-6


def test_columns_missing_on_one_side_are_reported_not_compared(reference: pl.DataFrame) -> None:
    result = skew(reference, reference.drop("n"), columns=["x", "n"])
    assert [(f.column, f.kind) for f in result.features] == [("n", "missing"), ("x", "numeric")]


def test_the_service_compares_a_registered_version_with_a_file(services: Services, reference: pl.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    version = services.data("tester").register("train", reference)
    serving = tmp_path / "serving.parquet"
    reference.with_columns(pl.col("n") * 3).write_parquet(serving)
    result = services.validation("tester").skew(version.ref, str(serving))
    assert result.reference == version.ref and result.drifted == ["n"]
