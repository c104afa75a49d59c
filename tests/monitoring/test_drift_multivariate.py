"""Multivariate drift by a domain classifier: chance on the same distribution, high on a shift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from steward import Settings
from steward.cli import app
from steward.core.drift_multivariate import MIN_ROWS, auc_p_value, auc_threshold, domain_classifier
from steward.errors import InvalidInputError
from steward.monitoring import report

KINDS = {"x": "numeric", "y": "numeric", "k": "categorical"}


def _sample(rng: np.random.Generator, n: int, *, flip: bool = False, shift: float = 0.0) -> dict[str, np.ndarray]:
    x = rng.normal(0, 1, n)
    y = (-0.9 if flip else 0.9) * x + 0.43 * rng.normal(0, 1, n)
    return {"x": x + shift, "y": y, "k": rng.choice(["a", "b", "c"], n).astype(object)}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(300, 2_000))
def test_the_same_distribution_gives_chance_and_no_alarm(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    result = domain_classifier(_sample(rng, n), _sample(rng, n), KINDS, seed=seed)
    assert result.status == "ok"
    assert result.roc_auc is not None and abs(result.roc_auc - 0.5) < 0.08
    assert result.drifted is False


def test_a_changed_relation_between_columns_is_caught_with_its_features() -> None:
    rng = np.random.default_rng(1)
    result = domain_classifier(_sample(rng, 3_000), _sample(rng, 3_000, flip=True), KINDS)
    assert result.drifted and result.roc_auc is not None and result.roc_auc > 0.9
    assert result.p_value is not None and result.p_value < 1e-6
    assert {name for name, _ in result.top_features[:2]} == {"x", "y"}
    assert "k" not in [name for name, _ in result.top_features[:2]]


def test_a_high_cardinality_column_does_not_false_alarm() -> None:
    rng = np.random.default_rng(3)
    ref = {"c": rng.choice([f"v{i}" for i in range(1000)], 5_000).astype(object), "x": rng.normal(size=5_000)}
    cur = {"c": rng.choice([f"v{i}" for i in range(1000)], 5_000).astype(object), "x": rng.normal(size=5_000)}
    result = domain_classifier(ref, cur, {"c": "categorical", "x": "numeric"})
    assert result.drifted is False and result.roc_auc is not None and result.roc_auc < 0.53


def test_too_few_rows_are_insufficient_data_never_drift() -> None:
    rng = np.random.default_rng(0)
    result = domain_classifier(_sample(rng, MIN_ROWS - 1), _sample(rng, 500, shift=5.0), KINDS)
    assert result.status == "insufficient_data" and result.drifted is False and result.roc_auc is None
    assert f"at least {MIN_ROWS}" in (result.message or "")


def test_identifiers_and_time_columns_are_left_out() -> None:
    rng = np.random.default_rng(0)
    ref = {"id": np.array([f"r{i}" for i in range(400)], dtype=object), "t": np.arange(400.0), "x": rng.normal(size=400)}
    cur = {"id": np.array([f"c{i}" for i in range(400)], dtype=object), "t": np.arange(400.0) + 1e6, "x": rng.normal(size=400)}
    result = domain_classifier(ref, cur, {"id": "categorical", "t": "temporal", "x": "numeric"})
    assert result.features == ("x",) and {c for c, _ in result.excluded} == {"id", "t"}
    assert result.drifted is False


def test_the_sensitivity_lowers_the_auc_threshold_and_bad_settings_are_refused() -> None:
    assert auc_threshold("low") > auc_threshold("medium") > auc_threshold("high") > 0.5
    with pytest.raises(InvalidInputError):
        auc_threshold("extreme")
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError):
        domain_classifier(_sample(rng, 100), _sample(rng, 100), KINDS, folds=1)
    with pytest.raises(InvalidInputError):
        domain_classifier({"x": np.zeros(100), "y": np.zeros(90)}, {"x": np.zeros(100), "y": np.zeros(100)}, {"x": "numeric", "y": "numeric"})


def test_the_auc_p_value_matches_the_mann_whitney_test() -> None:
    from scipy import stats

    rng = np.random.default_rng(5)
    a, b = rng.normal(0.1, 1, 400), rng.normal(0, 1, 300)
    u = stats.mannwhitneyu(a, b, alternative="greater", method="asymptotic", use_continuity=False)
    auc = u.statistic / (a.size * b.size)
    assert auc_p_value(auc, a.size, b.size) == pytest.approx(u.pvalue, rel=1e-6)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(8)
    paths = {}
    for name, flip in (("ref", False), ("same", False), ("flipped", True)):
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(_sample(rng, 4_000, flip=flip)), paths[name])
    return paths


def test_the_report_computes_it_and_a_flipped_correlation_alone_is_drift(files: dict[str, Path]) -> None:
    same = report(files["ref"], files["same"])
    assert same.multivariate is not None and same.multivariate.drifted is False and not same.any_drift
    flipped = report(files["ref"], files["flipped"])
    assert flipped.drifted == []  # every column alone looks the same
    assert flipped.multivariate is not None and flipped.multivariate.drifted and flipped.any_drift
    doc = flipped.to_dict()["multivariate"]
    assert doc["method"] == "domain_classifier" and doc["roc_auc"] > 0.9 and doc["threshold"] == 0.55
    assert report(files["ref"], files["flipped"], multivariate=False).multivariate is None


def test_the_cli_prints_it_in_json_and_exits_1_on_multivariate_drift(files: dict[str, Path], tmp_path: Path) -> None:
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update({"STEWARD_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": "250"})
    runner = CliRunner()
    args = ["monitor", "report", "--reference", str(files["ref"]), "--current", str(files["flipped"])]
    result = runner.invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["drifted"] == [] and doc["multivariate"]["drifted"] is True
    table = runner.invoke(app, [*args, "--html", str(tmp_path / "r.html")], env=env)
    assert table.exit_code == 1 and "domain classifier ROC-AUC" in table.stdout
    html = (tmp_path / "r.html").read_text()
    assert "Multivariate drift" in html and "ROC-AUC" in html
    quiet = runner.invoke(app, [*args, "--no-multivariate", "--json"], env=env)
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["multivariate"] is None
