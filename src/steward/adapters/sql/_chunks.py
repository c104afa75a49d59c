"""Packing metric points into chunks: three little-endian arrays per (run, key, flush)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from steward.core import Metric

_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


@dataclass(frozen=True, slots=True)
class Chunk:
    steps: np.ndarray[Any, np.dtype[np.int64]]
    values: np.ndarray[Any, np.dtype[np.float64]]
    timestamps: np.ndarray[Any, np.dtype[np.int64]]

    def as_row(self) -> dict[str, object]:
        return {
            "count": int(self.steps.size),
            "min_step": int(self.steps.min()),
            "max_step": int(self.steps.max()),
            "steps": self.steps.tobytes(),
            "values": self.values.tobytes(),
            "timestamps": self.timestamps.tobytes(),
        }

    def latest(self, key: str) -> Metric:
        """The point with the highest (step, timestamp); the last such one logged wins."""
        order = np.lexsort((np.arange(self.steps.size), self.timestamps, self.steps))
        i = int(order[-1])
        return Metric(key, float(self.values[i]), int(self.steps[i]), int(self.timestamps[i]))


def encode_chunk(steps: Sequence[int], values: Sequence[float], timestamps: Sequence[int]) -> Chunk:
    return Chunk(np.asarray(steps, dtype=_I8), np.asarray(values, dtype=_F8), np.asarray(timestamps, dtype=_I8))


def decode_history(key: str, rows: Sequence[Any]) -> list[Metric]:  # Any: rows of (steps, values, timestamps)
    """All points of one metric, ordered by step, then timestamp, then logging order."""
    if not rows:
        return []
    steps = np.concatenate([np.frombuffer(r[0], dtype=_I8) for r in rows])
    values = np.concatenate([np.frombuffer(r[1], dtype=_F8) for r in rows])
    stamps = np.concatenate([np.frombuffer(r[2], dtype=_I8) for r in rows])
    order = np.lexsort((np.arange(steps.size), stamps, steps))
    return [Metric(key, float(values[i]), int(steps[i]), int(stamps[i])) for i in order.tolist()]
