"""Quality of one window from its delayed labels, concept drift, and fairness per window.

The metric sets are the evaluation stage's (:func:`steward.evaluation.classification_metrics`,
:func:`~steward.evaluation.regression_metrics`) and so is fairness
(:func:`steward.evaluation.fairness`); this module only picks the labelled rows, the task,
and adds confidence intervals: a percentile bootstrap (seeded, so a window's result is
reproducible) for every metric, and Wilson's interval for accuracy, which is exact enough
for a proportion at any size and cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.evaluation import classification_metrics, fairness, regression_metrics

__all__ = ["BOOTSTRAP_RESAMPLES", "concept_drift", "primary_metric", "quality", "window_fairness"]

BOOTSTRAP_RESAMPLES = 100
_MAX_CLASSES = 20  # integer labels with more distinct values than this are a regression target
_Z95 = 1.959963984540054


def _labelled(table: pa.Table) -> tuple[pa.ChunkedArray, pa.Array, pa.Array] | None:
    """(which rows are labelled, their labels, their outputs) or None when the log has no
    scalar output. Arrow throughout: a window of a million rows never becomes Python objects."""
    if "label" not in table.column_names or "output" not in table.column_names or table.num_rows == 0:
        return None
    label, output = table.column("label"), table.column("output")
    keep = pc.and_(pc.is_valid(label), pc.is_valid(output))
    return keep, label.filter(keep).combine_chunks(), output.filter(keep).combine_chunks()


def _floats(values: pa.Array) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return None


def _whole(values: np.ndarray[Any, np.dtype[np.float64]]) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _is_classification(labels: pa.Array, outputs: pa.Array) -> bool:
    """Text or boolean labels or outputs, or whole numbers of at most 20 distinct values."""
    a, b = _floats(labels), _floats(outputs)
    if a is None or b is None:
        return True
    values = np.concatenate([a, b])
    return _whole(values) and np.unique(values).size <= _MAX_CLASSES


def _text(values: pa.Array) -> pa.Array:
    """Class labels comparable across the label file and the model's output (1 == 1.0 == "1")."""
    floats = _floats(values)
    if floats is not None and _whole(floats):
        return pc.cast(pa.array(floats.astype(np.int64)), pa.string())
    return pc.cast(values, pa.string())


def _codes(labels: pa.Array, outputs: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[str]]:
    """Labels and outputs as indices into their sorted classes."""
    y, p = _text(labels), _text(outputs)
    classes = sorted(set(pc.unique(y).to_pylist()) | set(pc.unique(p).to_pylist()))
    value_set = pa.array(classes, pa.string())
    codes = [np.asarray(pc.index_in(v, value_set=value_set).to_numpy(zero_copy_only=False), dtype=np.int64) for v in (y, p)]
    return codes[0], codes[1], classes


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + _Z95**2 / n
    centre = (p + _Z95**2 / (2 * n)) / denom
    half = _Z95 * math.sqrt(p * (1 - p) / n + _Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def primary_metric(task: str) -> str:
    """The metric concept drift is judged on: accuracy or RMSE."""
    return "accuracy" if task == "classification" else "rmse"


def quality(table: pa.Table, *, min_rows: int, seed: int = 0) -> dict[str, Any] | None:  # Any: JSON
    """The task's metrics on the window's labelled rows, with 95% intervals.

    Args:
        table: the window's rows of the prediction log (``label`` joined).
        min_rows: fewer labelled rows than this: ``insufficient_data`` (no metrics).
        seed: the bootstrap's seed.

    Returns:
        None when the log has no scalar output; else ``{"task", "labelled_rows", "status",
        "metrics": {name: value}, "intervals": {name: [low, high]}, "primary"}``.
    """
    found = _labelled(table)
    if found is None:
        return None
    _keep, labels, outputs = found
    n = len(labels)
    if n == 0:
        return {"task": None, "labelled_rows": 0, "status": "no_labels", "metrics": {}, "intervals": {}, "primary": None}
    task = "classification" if _is_classification(labels, outputs) else "regression"
    base: dict[str, Any] = {"task": task, "labelled_rows": n, "primary": primary_metric(task)}  # Any: JSON
    if n < min_rows:
        return {**base, "status": "insufficient_data", "metrics": {}, "intervals": {},
                "message": f"{n} labelled rows; at least {min_rows} are needed"}
    if task == "classification":
        return {**base, **_classification(*_codes(labels, outputs), seed)}
    yf, pf = _floats(labels), _floats(outputs)
    assert yf is not None and pf is not None  # not classification: both are numbers

    def compute(idx: np.ndarray[Any, Any]) -> dict[str, float | None]:
        return regression_metrics(yf[idx], pf[idx])

    metrics = compute(np.arange(n))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in metrics}
    for _ in range(BOOTSTRAP_RESAMPLES):
        for name, value in compute(rng.integers(0, n, n)).items():
            if value is not None:
                draws[name].append(value)
    return {**base, "status": "ok", "metrics": metrics, "intervals": _percentiles(draws), "interval_method": {}}


def _percentiles(draws: dict[str, list[float]]) -> dict[str, list[float] | None]:
    return {
        name: [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if len(vals) >= 10 else None
        for name, vals in draws.items()
    }


def _from_counts(matrix: np.ndarray[Any, Any], positive: int | None) -> dict[str, float | None]:
    """Accuracy, precision, recall and F1 of a confusion matrix (rows true, columns predicted),
    defined as the evaluation stage's (binary: the positive class; else macro; 0 when undefined)."""
    n = matrix.sum()
    tp = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0).astype(float), matrix.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    def pick(values: np.ndarray[Any, Any]) -> float:
        return float(values[positive]) if positive is not None else float(values.mean())

    return {"accuracy": float(tp.sum() / n) if n else None, "precision": pick(precision), "recall": pick(recall), "f1": pick(f1)}


def _classification(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], classes: list[str], seed: int) -> dict[str, Any]:  # Any: JSON
    """Point metrics by the evaluation stage; intervals by resampling the confusion matrix.

    Resampling rows with replacement is drawing the matrix's cells from a multinomial on
    their shares: the same bootstrap, at the cost of the matrix rather than of the rows
    (a window of a million rows takes milliseconds).
    """
    k = len(classes)
    got = classification_metrics(y, p, None, list(range(k)))
    metrics = {name: got[name] for name in ("accuracy", "precision", "recall", "f1")}
    matrix = np.bincount(y * k + p, minlength=k * k).reshape(k, k)
    positive = 1 if k == 2 else None
    n = int(matrix.sum())
    rng = np.random.default_rng(seed)
    resampled = rng.multinomial(n, matrix.ravel() / n, size=BOOTSTRAP_RESAMPLES).reshape(-1, k, k)
    draws: dict[str, list[float]] = {name: [] for name in metrics}
    for m in resampled:
        for name, value in _from_counts(m, positive).items():
            if value is not None:
                draws[name].append(value)
    intervals = _percentiles(draws)
    intervals["accuracy"] = list(wilson(int(np.trace(matrix)), n))
    return {"status": "ok", "metrics": metrics, "intervals": intervals, "interval_method": {"accuracy": "wilson", "others": "bootstrap"}}


def concept_drift(
    window_quality: dict[str, Any] | None, baseline: float | None, *, inputs_drifted: bool
) -> dict[str, Any] | None:  # Any: JSON
    """Concept drift: the primary metric's whole interval is worse than the baseline while
    no input feature drifted (the inputs look the same, the relation to the label changed).

    Returns:
        None when it cannot be judged (no quality, no interval or no baseline).
    """
    if not window_quality or window_quality.get("status") != "ok" or baseline is None:
        return None
    name = window_quality["primary"]
    interval = window_quality["intervals"].get(name)
    if interval is None:
        return None
    lower_is_better = name == "rmse"
    fell = interval[0] > baseline if lower_is_better else interval[1] < baseline
    return {
        "metric": name,
        "baseline": baseline,
        "value": window_quality["metrics"].get(name),
        "interval": interval,
        "quality_fell": bool(fell),
        "inputs_drifted": inputs_drifted,
        "flagged": bool(fell and not inputs_drifted),
    }


def window_fairness(table: pa.Table, sensitive: list[str], *, min_rows: int) -> dict[str, Any]:  # Any: JSON
    """Demographic parity and equalised-odds differences per declared sensitive attribute.

    A binary classification task is needed; the attribute is read from ``input.<name>``
    (or ``<name>``) of the labelled rows.
    """
    out: dict[str, Any] = {}  # Any: JSON
    if not sensitive:
        return out
    found = _labelled(table)
    for attr in sensitive:
        column = next((c for c in (f"input.{attr}", attr) if c in table.column_names), None)
        if column is None:
            out[attr] = {"status": "missing", "message": f"the prediction log has no input {attr!r}"}
            continue
        if found is None or len(found[1]) < min_rows:
            out[attr] = {"status": "insufficient_data", "labelled_rows": 0 if found is None else len(found[1])}
            continue
        keep, labels, outputs = found
        if not _is_classification(labels, outputs):
            out[attr] = {"status": "not_applicable", "message": "fairness differences need a classification task"}
            continue
        y, p, classes = _codes(labels, outputs)
        if len(classes) != 2:
            out[attr] = {"status": "not_applicable", "message": f"fairness differences need two classes, found {len(classes)}"}
            continue
        groups = pc.fill_null(pc.cast(table.column(column).filter(keep), pa.string()), "null").to_numpy(zero_copy_only=False)
        result = fairness(y, p, np.asarray(groups, dtype=object), 1)
        out[attr] = {"status": "ok", "labelled_rows": int(y.size), **result, "positive_label": classes[1]}
    return out
