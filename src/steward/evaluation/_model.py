"""A loaded model as the evaluation sees it: labels and probabilities, or values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from steward.errors import InvalidInputError

__all__ = ["ModelUnderTest", "Outputs", "Task", "class_labels", "infer_task"]

Task = Literal["classification", "regression"]


@dataclass(frozen=True, slots=True)
class Outputs:
    """What a model said about a frame: ``labels`` (class or value per row) and, for
    classifiers that give them, ``proba`` (one column per class)."""

    labels: np.ndarray
    proba: np.ndarray | None


class ModelUnderTest:
    """Wraps a :class:`~steward.registry.Predictor` (anything with ``predict``, plus the
    ``model`` and ``signature`` attributes a predictor has).

    Args:
        predictor: the loaded model.
        task: classification or regression.
        classes: class labels in probability-column order (classification).
    """

    def __init__(self, predictor: Any, task: Task, classes: list[Any]) -> None:  # Any: Predictor / labels
        self.predictor = predictor
        self.task = task
        self.classes = classes
        inner = getattr(predictor, "model", None)
        self._proba = getattr(inner, "predict_proba", None) if task == "classification" else None

    @property
    def features(self) -> list[str] | None:
        """The signature's input columns, or None when the model has no signature."""
        signature = getattr(self.predictor, "signature", None)
        return [c.name for c in signature.inputs] if signature is not None else None

    def outputs(self, frame: Any) -> Outputs:  # Any: a pandas DataFrame
        """Predict on ``frame`` (validated against the signature by the predictor)."""
        if self._proba is not None:
            signature = getattr(self.predictor, "signature", None)
            validated = signature.validate(frame) if signature is not None else frame
            proba = np.asarray(self._proba(validated), dtype=float)
            if proba.ndim == 2 and proba.shape[1] == len(self.classes):
                labels = np.asarray(self.classes, dtype=object)[np.argmax(proba, axis=1)]
                return Outputs(_native(labels), proba)
        raw = np.asarray(self.predictor.predict(frame))
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if self.task == "classification" and raw.ndim == 2 and raw.shape[1] == len(self.classes):
            labels = np.asarray(self.classes, dtype=object)[np.argmax(raw, axis=1)]
            return Outputs(_native(labels), raw.astype(float))
        if self.task == "classification" and raw.dtype.kind == "f" and len(self.classes) == 2 and _unit(raw):
            # a booster's binary output is the positive-class probability
            proba = np.stack([1 - raw, raw], axis=1)
            labels = np.asarray(self.classes, dtype=object)[(raw >= 0.5).astype(int)]
            return Outputs(_native(labels), proba)
        return Outputs(raw, None)


def _unit(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(len(finite)) and bool(((finite >= 0) & (finite <= 1)).all()) and not np.all(np.isin(finite, (0.0, 1.0)))


def _native(labels: np.ndarray) -> np.ndarray:
    """Object arrays of numbers back to a numeric dtype, so comparisons with y work."""
    try:
        return labels.astype(np.asarray(labels.tolist()).dtype)
    except (TypeError, ValueError):
        return labels


def infer_task(predictor: Any, target: np.ndarray) -> Task:  # Any: Predictor
    """Classification when the model has classes or probabilities or the target holds
    text, booleans or few integers; regression otherwise."""
    inner = getattr(predictor, "model", None)
    if hasattr(inner, "classes_") or hasattr(inner, "predict_proba"):
        return "classification"
    kind = target.dtype.kind
    if kind in "OUSb":
        return "classification"
    if kind in "iu" and len(np.unique(target)) <= 20:
        return "classification"
    if kind not in "iuf":
        raise InvalidInputError(f"cannot tell the task from a target of dtype {target.dtype}; pass --task", field="task")
    return "regression"


def class_labels(predictor: Any, target: np.ndarray) -> list[Any]:  # Any: Predictor / labels
    """The model's classes (``classes_``) or the sorted labels of the target."""
    inner = getattr(predictor, "model", None)
    found = getattr(inner, "classes_", None)
    values = list(found) if found is not None else sorted(np.unique(target[~_is_null(target)]).tolist())
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _is_null(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)
