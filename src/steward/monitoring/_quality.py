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


def _labelled(table: pa.Table) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """(mask of labelled rows, labels, outputs) or None when the log has no scalar output."""
    if "label" not in table.column_names or "output" not in table.column_names or table.num_rows == 0:
        return None
    label = table.column("label")
    output = table.column("output")
    mask = pc.and_(pc.is_valid(label), pc.is_valid(output)).to_numpy(zero_copy_only=False)
    mask = np.asarray(mask, dtype=bool)
    labels = np.asarray(label.to_pylist(), dtype=object)[mask]
    outputs = np.asarray(output.to_pylist(), dtype=object)[mask]
    return mask, labels, outputs


def _is_classification(labels: np.ndarray[Any, Any], outputs: np.ndarray[Any, Any]) -> bool:
    values = np.concatenate([labels, outputs])
    if any(isinstance(v, (str, bool)) for v in values):
        return True
    try:
        floats = values.astype(float)
    except (TypeError, ValueError):
        return True
    if not np.all(np.isfinite(floats)) or not np.all(floats == np.round(floats)):
        return False
    return len(np.unique(floats)) <= _MAX_CLASSES


def _normalise(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Class labels comparable across the label file and the model's output (1 == 1.0 == "1")."""
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append(str(v).lower())
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return np.asarray(out, dtype=object)


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
    _mask, labels, outputs = found
    n = int(labels.size)
    if n == 0:
        return {"task": None, "labelled_rows": 0, "status": "no_labels", "metrics": {}, "intervals": {}, "primary": None}
    task = "classification" if _is_classification(labels, outputs) else "regression"
    base: dict[str, Any] = {"task": task, "labelled_rows": n, "primary": primary_metric(task)}  # Any: JSON
    if n < min_rows:
        return {**base, "status": "insufficient_data", "metrics": {}, "intervals": {},
                "message": f"{n} labelled rows; at least {min_rows} are needed"}
    if task == "classification":
        y, p = _normalise(labels), _normalise(outputs)
        classes = sorted(set(y.tolist()) | set(p.tolist()))

        def compute(idx: np.ndarray[Any, Any]) -> dict[str, float | None]:
            got = classification_metrics(y[idx], p[idx], None, classes)
            return {k: got[k] for k in ("accuracy", "precision", "recall", "f1")}
    else:
        yf, pf = labels.astype(float), outputs.astype(float)

        def compute(idx: np.ndarray[Any, Any]) -> dict[str, float | None]:
            return regression_metrics(yf[idx], pf[idx])

    everything = np.arange(n)
    metrics = compute(everything)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in metrics}
    for _ in range(BOOTSTRAP_RESAMPLES):
        for name, value in compute(rng.integers(0, n, n)).items():
            if value is not None:
                draws[name].append(value)
    intervals: dict[str, list[float] | None] = {
        name: [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if len(vals) >= 10 else None
        for name, vals in draws.items()
    }
    if task == "classification" and metrics.get("accuracy") is not None:
        hits = round(float(metrics["accuracy"] or 0.0) * n)
        intervals["accuracy"] = list(wilson(hits, n))
    return {**base, "status": "ok", "metrics": metrics, "intervals": intervals,
            "interval_method": {"accuracy": "wilson"} if task == "classification" else {}}


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
        if found is None or found[1].size < min_rows:
            out[attr] = {"status": "insufficient_data", "labelled_rows": 0 if found is None else int(found[1].size)}
            continue
        mask, labels, outputs = found
        if not _is_classification(labels, outputs):
            out[attr] = {"status": "not_applicable", "message": "fairness differences need a classification task"}
            continue
        y, p = _normalise(labels), _normalise(outputs)
        classes = sorted(set(y.tolist()) | set(p.tolist()))
        if len(classes) != 2:
            out[attr] = {"status": "not_applicable", "message": f"fairness differences need two classes, found {len(classes)}"}
            continue
        groups = np.asarray([str(g) for g in np.asarray(table.column(column).to_pylist(), dtype=object)[mask]], dtype=object)
        out[attr] = {"status": "ok", "labelled_rows": int(y.size), **fairness(y, p, groups, classes[1])}
    return out
