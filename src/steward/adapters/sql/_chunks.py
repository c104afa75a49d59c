"""Packing metric points into chunks: three little-endian arrays per (run, key, flush).

The stdlib :mod:`array` does the packing: a chunk holds a flush's points of one key (tens
to thousands), where numpy's import (a tenth of a second) would cost more than it saves,
and every ``steward runs ...`` command opens this store.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steward.core import Metric

# the stored format is little-endian whatever the machine
_SWAP = sys.byteorder == "big"


def _pack(typecode: str, items: Sequence[Any]) -> array[Any]:  # Any: ints or floats
    packed = array(typecode, items)
    if _SWAP:
        packed.byteswap()
    return packed


def _unpack(typecode: str, data: bytes) -> array[Any]:  # Any: ints or floats
    unpacked = array(typecode)
    unpacked.frombytes(data)
    if _SWAP:
        unpacked.byteswap()
    return unpacked


@dataclass(frozen=True, slots=True)
class Chunk:
    steps: array[int]
    values: array[float]
    timestamps: array[int]

    def as_row(self) -> dict[str, object]:
        return {
            "count": len(self.steps),
            "min_step": min(self.steps),
            "max_step": max(self.steps),
            "steps": self.steps.tobytes(),
            "values": self.values.tobytes(),
            "timestamps": self.timestamps.tobytes(),
        }

    def latest(self, key: str) -> Metric:
        """The point with the highest (step, timestamp); the last such one logged wins."""
        steps, stamps = self.steps, self.timestamps
        i = max(range(len(steps)), key=lambda j: (steps[j], stamps[j], j))
        return Metric(key, self.values[i], steps[i], stamps[i])


def encode_chunk(steps: Sequence[int], values: Sequence[float], timestamps: Sequence[int]) -> Chunk:
    """Pack one key's points (a ``TypeError``/``OverflowError`` for a step beyond 64 bits)."""
    return Chunk(_pack("q", steps), _pack("d", values), _pack("q", timestamps))


def decode_history(key: str, rows: Sequence[Any]) -> list[Metric]:  # Any: rows of (steps, values, timestamps)
    """All points of one metric, ordered by step, then timestamp, then logging order."""
    if not rows:
        return []
    steps: array[int] = array("q")
    values: array[float] = array("d")
    stamps: array[int] = array("q")
    for row in rows:
        steps.extend(_unpack("q", row[0]))
        values.extend(_unpack("d", row[1]))
        stamps.extend(_unpack("q", row[2]))
    points = sorted(zip(steps, stamps, range(len(steps)), values, strict=True))
    return [Metric(key, value, step, stamp) for step, stamp, _, value, in points]
