"""Quality of a window: the confusion-matrix bootstrap agrees with the evaluation stage's
metrics, Wilson's interval, regression metrics, and fairness inputs."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.evaluation import classification_metrics
from steward.monitoring._quality import _from_counts, quality, wilson


def _window(labels: list[object], outputs: list[object]) -> pa.Table:
    return pa.table({"output": outputs, "label": labels})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=200),
    st.booleans(),
)
def test_metrics_from_the_confusion_matrix_equal_the_evaluation_stages(pairs: list[tuple[int, int]], binary: bool) -> None:
    y = np.array([t % 2 if binary else t for t, _ in pairs])
    p = np.array([q % 2 if binary else q for _, q in pairs])
    classes = sorted(set(y.tolist()) | set(p.tolist()))
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, q in zip(y, p, strict=True):
        matrix[classes.index(t), classes.index(q)] += 1
    expected = classification_metrics(y, p, None, classes)
    got = _from_counts(matrix, 1 if len(classes) == 2 else None)
    for name in ("accuracy", "precision", "recall", "f1"):
        assert got[name] == pytest.approx(expected[name]), name


def test_wilsons_interval_matches_the_textbook_values() -> None:
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_a_classification_window_has_intervals_around_its_metrics() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    p = np.where(rng.random(5000) < 0.8, y, 1 - y)
    q = quality(_window(y.tolist(), p.tolist()), min_rows=100)
    assert q is not None and q["task"] == "classification" and q["labelled_rows"] == 5000
    for name, value in q["metrics"].items():
        low, high = q["intervals"][name]
        assert low <= value <= high, name
        assert high - low < 0.06, name


def test_a_regression_window_reports_rmse_with_an_interval() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, 2000)
    p = y + rng.normal(0, 0.5, 2000)
    q = quality(_window(y.tolist(), p.tolist()), min_rows=100)
    assert q is not None and q["task"] == "regression" and q["primary"] == "rmse"
    low, high = q["intervals"]["rmse"]
    assert low < q["metrics"]["rmse"] < high and 0.45 < q["metrics"]["rmse"] < 0.55


def test_text_labels_compare_with_the_models_text_outputs_and_unlabelled_rows_are_left_out() -> None:
    q = quality(_window(["yes", None, "no", "yes"] * 50, ["yes", "no", "no", "no"] * 50), min_rows=10)
    assert q is not None and q["labelled_rows"] == 150
    assert q["metrics"]["accuracy"] == pytest.approx(2 / 3)


def test_a_window_of_a_million_labelled_rows_takes_seconds_not_minutes() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 1_000_000)
    started = time.perf_counter()
    q = quality(_window(y.tolist(), y.tolist()), min_rows=100)
    assert q is not None and q["metrics"]["accuracy"] == 1.0
    assert time.perf_counter() - started < 10  # measured 1.8 s (the confusion-matrix bootstrap; sklearn on codes)
