"""Slices: the rows of one category value, or of one quantile bin of a numeric column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["MAX_CATEGORIES", "slice_masks"]

# Past this many distinct values a text column is summarised by its most frequent ones.
MAX_CATEGORIES = 20
NUMERIC_BINS = 4


def slice_masks(values: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:  # names and row masks
    """``(label, mask)`` per slice of one column: each category value (the 20 most
    frequent), or quartile bins ``[lo, hi)`` for a numeric column with many values;
    missing values form a slice ``null`` of their own."""
    nulls = _nulls(values)
    present = values[~nulls]
    if values.dtype.kind in "iuf" and len(np.unique(present)) > MAX_CATEGORIES:
        yield from _bins(values.astype(float), nulls)
    else:
        labels, counts = np.unique(present.astype(str), return_counts=True) if len(present) else (np.array([]), np.array([]))
        order = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
        text = values.astype(str)
        for i in order:
            label = str(labels[i])
            yield label, (text == label) & ~nulls
    if nulls.any():
        yield "null", nulls


def _bins(values: np.ndarray, nulls: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    edges = np.unique(np.quantile(values[~nulls], np.linspace(0, 1, NUMERIC_BINS + 1)))
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        last = i == len(edges) - 2
        mask = (values >= lo) & ((values <= hi) if last else (values < hi)) & ~nulls
        yield f"[{lo:.4g}, {hi:.4g}{']' if last else ')'}", mask


def _nulls(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind == "O":
        return np.array([_missing(v) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


def _missing(value: Any) -> bool:  # Any: one cell
    return value is None or (isinstance(value, float) and np.isnan(value))
