"""The metric sets of a task, computed with scikit-learn on arrays.

Classification: accuracy, precision, recall, F1 (the positive class for binary tasks,
macro averages for multiclass ones: every class counts the same, so a rare class cannot
hide behind a frequent one), ROC-AUC, PR-AUC, log loss and Brier score (these four need
probabilities) and the confusion matrix. Regression: RMSE, MAE, R2, MAPE.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

__all__ = [
    "CLASSIFICATION_METRICS",
    "HIGHER_IS_BETTER",
    "KNOWN_METRICS",
    "LOWER_IS_BETTER",
    "REGRESSION_METRICS",
    "classification_metrics",
    "confusion",
    "regression_metrics",
]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier")
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
KNOWN_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae", "mape"})
HIGHER_IS_BETTER = frozenset(KNOWN_METRICS) - LOWER_IS_BETTER


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list[Any]  # Any: class labels
) -> dict[str, float | None]:
    """The classification metric set; a metric that cannot be computed (one class only,
    no probabilities) is ``None``.

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        proba: class probabilities, one column per entry of ``classes`` (or None).
        classes: the model's classes in probability-column order.
    """
    from sklearn import metrics as skm

    binary = len(classes) == 2
    out: dict[str, float | None] = {"accuracy": float(skm.accuracy_score(y_true, y_pred))}
    with warnings.catch_warnings():
        # precision of a class never predicted is 0 by definition here, not a warning
        warnings.simplefilter("ignore")
        if binary:
            kw: dict[str, Any] = {"pos_label": classes[1], "average": "binary", "zero_division": 0}  # Any: sklearn kwargs
        else:
            kw = {"average": "macro", "labels": classes, "zero_division": 0}
        out["precision"] = float(skm.precision_score(y_true, y_pred, **kw))
        out["recall"] = float(skm.recall_score(y_true, y_pred, **kw))
        out["f1"] = float(skm.f1_score(y_true, y_pred, **kw))
    for name in ("roc_auc", "pr_auc", "log_loss", "brier"):
        out[name] = None
    present = set(np.unique(y_true).tolist())
    if proba is None or not present <= set(classes):
        return out
    onehot = np.stack([(y_true == c).astype(float) for c in classes], axis=1)
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    out["log_loss"] = _finite(-np.mean(np.sum(onehot * np.log(clipped), axis=1)))
    # binary Brier is the usual mean squared error of the positive-class probability;
    # multiclass uses the sum over classes (Brier's original definition)
    if binary:
        out["brier"] = _finite(np.mean((proba[:, 1] - onehot[:, 1]) ** 2))
    else:
        out["brier"] = _finite(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    if len(present) < 2:
        return out
    if binary:
        out["roc_auc"] = _finite(skm.roc_auc_score(onehot[:, 1], proba[:, 1]))
        out["pr_auc"] = _finite(skm.average_precision_score(onehot[:, 1], proba[:, 1]))
        return out
    seen = [i for i, c in enumerate(classes) if c in present]
    aucs = [skm.roc_auc_score(onehot[:, i], proba[:, i]) for i in seen]
    aps = [skm.average_precision_score(onehot[:, i], proba[:, i]) for i in seen]
    out["roc_auc"] = _finite(float(np.mean(aucs)))
    out["pr_auc"] = _finite(float(np.mean(aps)))
    return out


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: list[Any]) -> dict[str, Any]:  # Any: labels / JSON
    """``{"labels": [...], "matrix": [[...]]}``: rows are true classes, columns predicted."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    return {"labels": [_json_label(c) for c in classes], "matrix": matrix.astype(int).tolist()}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """RMSE, MAE, R2 and MAPE (rows whose true value is 0 are left out of MAPE)."""
    from sklearn import metrics as skm

    y = y_true.astype(float)
    p = y_pred.astype(float)
    nonzero = y != 0
    mape = float(np.mean(np.abs((y[nonzero] - p[nonzero]) / y[nonzero]))) if nonzero.any() else math.nan
    r2 = float(skm.r2_score(y, p)) if len(y) > 1 else math.nan
    return {
        "rmse": _finite(math.sqrt(float(skm.mean_squared_error(y, p)))),
        "mae": _finite(float(skm.mean_absolute_error(y, p))),
        "r2": _finite(r2),
        "mape": _finite(mape),
    }


def _json_label(value: Any) -> Any:  # Any: a class label of any JSON-able type
    if isinstance(value, np.generic):
        return value.item()
    return value
