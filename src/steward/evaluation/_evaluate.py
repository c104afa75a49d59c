"""Evaluate one model on one frame: metrics, slices, fairness, stress, latency, explanation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steward.errors import InvalidInputError

from ._explain import is_tree_model, permutation_importance, shap_available, shap_importance
from ._fairness import fairness
from ._latency import latency
from ._metrics import classification_metrics, confusion, regression_metrics
from ._model import ModelUnderTest, Task, class_labels, infer_task
from ._slices import slice_masks
from ._stress import edge_inputs, rare_class_recall

__all__ = ["EvaluationOptions", "evaluate_frame"]

JSON = dict[str, Any]  # Any: JSON values


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    """What to compute besides the metric set.

    Attributes:
        target: the column holding the true label or value.
        task: ``classification``, ``regression`` or None (inferred).
        slices: columns whose values (or quartile bins) get metrics of their own.
        sensitive: the column fairness is measured across (classification only).
        measure_latency: time single-row and 1,000-row predictions.
        explain: permutation importance (and SHAP when installed, for tree models).
    """

    target: str
    task: Task | None = None
    slices: tuple[str, ...] = field(default_factory=tuple)
    sensitive: str | None = None
    measure_latency: bool = True
    explain: bool = True


def evaluate_frame(predictor: Any, frame: Any, options: EvaluationOptions) -> JSON:  # Any: Predictor, DataFrame
    """The evaluation report of ``predictor`` on ``frame`` (a pandas DataFrame).

    Raises:
        InvalidInputError: the target, a slice or the sensitive column is missing, the
            frame is empty, or the model refuses the frame (naming the columns).
    """
    _check_columns(frame, options)
    y = _column(frame, options.target)
    if options.task not in (None, "classification", "regression"):
        raise InvalidInputError("task must be classification or regression", field="task")
    known = ~_null(y)
    if not known.all():
        frame = frame[known].reset_index(drop=True)
        y = y[known]
    if len(frame) == 0:
        raise InvalidInputError(f"no rows have a value in the target column {options.target!r}", field="target")
    task: Task = options.task or infer_task(predictor, y)
    classes = class_labels(predictor, y) if task == "classification" else []
    model = ModelUnderTest(predictor, task, classes)
    features = model.features or [c for c in frame.columns if c != options.target]
    inputs = frame[features]
    out = model.outputs(inputs)
    report: JSON = {"task": task, "target": options.target, "rows": len(frame), "features": list(features)}
    if task == "classification":
        report["classes"] = [_plain(c) for c in classes]
        report["metrics"] = classification_metrics(y, out.labels, out.proba, classes)
        report["confusion_matrix"] = confusion(y, out.labels, classes)
    else:
        report["metrics"] = regression_metrics(y, out.labels)
    report["slices"] = _slices(frame, options.slices, y, out.labels, out.proba, classes, task)
    report["fairness"] = None
    if options.sensitive is not None:
        if task != "classification" or len(classes) != 2:
            raise InvalidInputError("fairness needs a binary classification task", field="sensitive")
        report["fairness"] = {"attribute": options.sensitive, **fairness(y, out.labels, _column(frame, options.sensitive), classes[1])}
    report["stress"] = {
        "rare_classes": rare_class_recall(y, out.labels, classes) if task == "classification" else [],
        "edge_inputs": edge_inputs(model, inputs, features),
    }
    report["latency"] = latency(model, inputs) if options.measure_latency else None
    report["explanation"] = _explain(model, inputs, y, features, task, classes) if options.explain else None
    return report


def _explain(model: ModelUnderTest, inputs: Any, y: np.ndarray, features: list[str], task: Task, classes: list[Any]) -> JSON:  # Any: DataFrame/labels
    def score(sample: Any, truth: np.ndarray) -> float:  # Any: DataFrame
        out = model.outputs(sample)
        if task == "classification":
            return float(np.mean(out.labels == truth))
        m = regression_metrics(truth, out.labels)["r2"]
        return float(m) if m is not None else 0.0

    sample = inputs.reset_index(drop=True)
    perm = permutation_importance(score, sample, np.asarray(y), features)
    inner = getattr(model.predictor, "model", None)
    shap_rows = shap_importance(inner, sample, features) if inner is not None else None
    note = None
    if shap_rows is None:
        if not shap_available():
            note = "SHAP skipped: install steward[shap]"
        elif not is_tree_model(inner):
            note = "SHAP skipped: only tree models are explained with SHAP"
    return {
        "permutation_importance": {"scoring": "accuracy" if task == "classification" else "r2", "features": perm},
        "shap": shap_rows,
        "note": note,
    }


def _slices(
    frame: Any, columns: Sequence[str], y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes: list[Any], task: Task  # Any: DataFrame/labels
) -> list[JSON]:
    rows: list[JSON] = []
    for col in columns:
        for label, mask in slice_masks(_column(frame, col)):
            if not mask.any():
                continue
            if task == "classification":
                metrics = classification_metrics(y[mask], pred[mask], proba[mask] if proba is not None else None, classes)
            else:
                metrics = regression_metrics(y[mask], pred[mask])
            rows.append({"column": col, "slice": label, "count": int(mask.sum()), "metrics": metrics})
    return rows


def _check_columns(frame: Any, options: EvaluationOptions) -> None:  # Any: DataFrame
    wanted = [("target", options.target), *(("slice", s) for s in options.slices)]
    if options.sensitive is not None:
        wanted.append(("sensitive", options.sensitive))
    for role, col in wanted:
        if col not in frame.columns:
            shown = ", ".join(map(str, list(frame.columns)[:20]))
            raise InvalidInputError(f"the data has no {role} column {col!r}; columns: {shown}", field=role)


def _column(frame: Any, name: str) -> np.ndarray:  # Any: DataFrame
    values: np.ndarray = np.asarray(frame[name].to_numpy())
    if values.dtype.kind not in "iufb" and values.dtype.kind != "O":
        values = values.astype(object)
    return values


def _null(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


def _plain(value: Any) -> Any:  # Any: a label
    return value.item() if isinstance(value, np.generic) else value
