"""Global explanations: permutation importance for any model; mean |SHAP| for tree
models when the optional ``shap`` package is installed (``pip install steward[shap]``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["is_tree_model", "permutation_importance", "shap_available", "shap_importance"]

MAX_ROWS = 2_000
REPEATS = 3
_TREE_TYPES = ("Forest", "Tree", "Boosting", "XGB", "LGBM", "Booster")


def permutation_importance(
    score: Callable[[Any, np.ndarray], float], frame: Any, y: np.ndarray, features: list[str], *, seed: int = 0  # Any: DataFrame
) -> list[dict[str, float | str]]:
    """Drop of ``score(frame, y)`` (higher is better) when each feature's column is shuffled,
    averaged over a few repeats; sorted by importance.

    Returns:
        ``[{"feature", "importance", "std"}]``.
    """
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(frame), MAX_ROWS, replace=False)) if len(frame) > MAX_ROWS else np.arange(len(frame))
    sample = frame.iloc[keep].reset_index(drop=True)
    truth = np.asarray(y)[keep]
    baseline = score(sample, truth)
    rows: list[dict[str, float | str]] = []
    for col in features:
        drops = []
        for _ in range(REPEATS):
            shuffled = sample.copy()
            shuffled[col] = sample[col].to_numpy()[rng.permutation(len(sample))]
            drops.append(baseline - score(shuffled, truth))
        rows.append({"feature": col, "importance": float(np.mean(drops)), "std": float(np.std(drops))})
    return sorted(rows, key=lambda r: -float(r["importance"]))


def shap_available() -> bool:
    """True when the optional ``shap`` package is importable."""
    return importlib.util.find_spec("shap") is not None


def is_tree_model(model: object) -> bool:
    """True for tree ensembles and boosters (the models SHAP's TreeExplainer handles)."""
    return any(t in type(model).__name__ for t in _TREE_TYPES)


def shap_importance(model: object, frame: Any, features: list[str]) -> list[dict[str, float | str]] | None:  # Any: DataFrame
    """Mean absolute SHAP value per feature, or None (no shap, or not a tree model)."""
    if not shap_available() or not is_tree_model(model):
        return None
    import shap

    sample = frame[features].head(500)
    values = shap.TreeExplainer(model).shap_values(sample)
    arr = np.abs(np.asarray(values))
    # (rows, features) for regression/binary; (classes, rows, features) or
    # (rows, features, classes) for multiclass, depending on the shap version
    while arr.ndim > 2:
        axis = 0 if arr.shape[0] != len(sample) else arr.ndim - 1
        arr = arr.mean(axis=axis)
    means = arr.mean(axis=0)
    rows: list[dict[str, float | str]] = [{"feature": f, "mean_abs_shap": float(v)} for f, v in zip(features, means, strict=True)]
    return sorted(rows, key=lambda r: -float(r["mean_abs_shap"]))
