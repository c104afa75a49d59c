"""Prediction latency: p50 and p99 for one row and for a batch of 1,000 rows."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._model import ModelUnderTest

__all__ = ["latency"]

BATCH_ROWS = 1_000


def _time(model: ModelUnderTest, frame: Any, repeats: int) -> list[float]:  # Any: DataFrame
    model.outputs(frame)  # warm-up: first calls pay for lazy imports and caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.outputs(frame)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def latency(model: ModelUnderTest, frame: Any, *, single_repeats: int = 100, batch_repeats: int = 10) -> dict[str, float]:  # Any: DataFrame
    """Milliseconds: ``p50_single_row_ms``, ``p99_single_row_ms``, ``p50_batch_1000_ms``,
    ``p99_batch_1000_ms`` (the batch repeats the data's rows up to 1,000)."""
    one = frame.head(1)
    reps = -(-BATCH_ROWS // max(len(frame), 1))
    import pandas as pd

    batch = pd.concat([frame] * reps, ignore_index=True).head(BATCH_ROWS) if reps > 1 else frame.head(BATCH_ROWS)
    single = _time(model, one, single_repeats)
    many = _time(model, batch, batch_repeats)
    return {
        "p50_single_row_ms": float(np.percentile(single, 50)),
        "p99_single_row_ms": float(np.percentile(single, 99)),
        "p50_batch_1000_ms": float(np.percentile(many, 50)),
        "p99_batch_1000_ms": float(np.percentile(many, 99)),
    }
