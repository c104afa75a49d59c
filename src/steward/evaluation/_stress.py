"""Stress tests: recall on rare classes, and predictions on edge inputs.

An edge case passes when the model answers without raising and every answer is valid:
a known class (classification) or a finite number (regression), one per row. A refusal
(even a clear one, such as a signature error) fails: a served model meets such rows.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._model import ModelUnderTest

__all__ = ["RARE_SHARE", "edge_inputs", "rare_class_recall"]

# A class is rare when it holds less than this share of the rows; binary tasks always
# count their minority class as rare.
RARE_SHARE = 0.2
_EXTREME = 1e12
_EDGE_ROWS = 5


def rare_class_recall(y_true: np.ndarray, y_pred: np.ndarray, classes: list[Any]) -> list[dict[str, Any]]:  # Any: labels/JSON
    """``[{"class", "support", "share", "recall"}]`` for each rare class present."""
    n = len(y_true)
    support = {c: int((y_true == c).sum()) for c in classes}
    present = [c for c in classes if support[c]]
    if not present or n == 0:
        return []
    rare = [c for c in present if support[c] / n < RARE_SHARE]
    if not rare:
        rare = [min(present, key=lambda c: support[c])]
    return [
        {
            "class": c.item() if isinstance(c, np.generic) else c,
            "support": support[c],
            "share": support[c] / n,
            "recall": float(((y_pred == c) & (y_true == c)).sum() / support[c]),
        }
        for c in rare
    ]


def _cases(frame: Any, features: list[str]) -> Iterator[tuple[str, str, Any]]:  # Any: DataFrame
    import pandas as pd

    base = frame[features].head(_EDGE_ROWS).reset_index(drop=True)
    for col in features:
        kind = base[col].dtype.kind
        nulls = base.copy()
        nulls[col] = pd.Series([None] * len(base), dtype=base[col].dtype if kind in "fO" else "float64")
        yield "nulls", col, nulls
        if kind in "iuf":
            for name, value in (("extreme_high", _EXTREME), ("extreme_low", -_EXTREME)):
                edge = base.copy()
                edge[col] = base[col].astype("float64") * 0 + value if kind == "f" else _int_extreme(base[col], value > 0)
                yield name, col, edge
        elif kind in "OUS" or str(base[col].dtype) in ("str", "string"):
            unseen = base.copy()
            unseen[col] = "__steward_unseen_category__"
            yield "unseen_category", col, unseen
            empty = base.copy()
            empty[col] = ""
            yield "empty_string", col, empty


def _int_extreme(column: Any, high: bool) -> Any:  # Any: a pandas Series
    info = np.iinfo(column.dtype)
    return column * 0 + (info.max if high else info.min)


def edge_inputs(model: ModelUnderTest, frame: Any, features: list[str]) -> list[dict[str, Any]]:  # Any: DataFrame/JSON
    """Predict on each edge variant of the first rows.

    Returns:
        ``[{"case", "column", "passed", "error", "input", "traceback"}]``: ``input`` says in words
        what the model was given; ``traceback`` (the model's stack, at most 4,000 characters) is
        set only when the model raised.
    """
    results: list[dict[str, Any]] = []  # Any: JSON
    for case, column, edge in _cases(frame, features):
        passed, error, trace = _check(model, edge)
        results.append({"case": case, "column": column, "passed": passed, "error": error,
                        "input": _describe(case, column, len(edge)), "traceback": trace})
    return results


_CASE_WORDS = {
    "nulls": "set to missing",
    "extreme_high": f"set to {_EXTREME:g} (or the type's maximum)",
    "extreme_low": f"set to {-_EXTREME:g} (or the type's minimum)",
    "unseen_category": "set to a category never seen in training",
    "empty_string": "set to the empty string",
}


def _describe(case: str, column: str, rows: int) -> str:
    return f"{rows} rows with {column!r} {_CASE_WORDS.get(case, case)}"


def _check(model: ModelUnderTest, edge: Any) -> tuple[bool, str | None, str | None]:  # Any: DataFrame
    try:
        out = model.outputs(edge)
    except Exception as exc:  # noqa: BLE001 - any failure of the model is the finding we record
        trace = "".join(traceback.format_exception(exc))
        return False, f"{type(exc).__name__}: {str(exc)[:300]}", trace[-4000:]
    labels = np.asarray(out.labels)
    if len(labels) != len(edge):
        return False, f"{len(labels)} predictions for {len(edge)} rows", None
    if model.task == "classification":
        known = set(model.classes)
        bad = [v for v in labels.tolist() if v not in known]
        if bad:
            return False, f"prediction {str(bad[0])[:40]!r} is not a known class", None
        if out.proba is not None and not np.isfinite(out.proba).all():
            return False, "probabilities are not finite", None
        return True, None, None
    if labels.dtype.kind not in "iuf" or not np.isfinite(labels.astype(float)).all():
        return False, "predictions are not finite numbers", None
    return True, None, None
