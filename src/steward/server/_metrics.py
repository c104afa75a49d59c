"""Parse metric points of a batch request, naming the exact point on error."""

from __future__ import annotations

import math
import time
from typing import Any

from steward.core import Metric
from steward.errors import InvalidInputError

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf, "-infinity": -math.inf}


def _value(raw: Any, field: str) -> float:  # Any: decoded JSON
    if isinstance(raw, bool):
        raise InvalidInputError(f"{field} must be a number", field=field)
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str) and raw.strip().lower() in _NON_FINITE:
        return _NON_FINITE[raw.strip().lower()]
    raise InvalidInputError(f"{field} must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")", field=field)


def _int(raw: Any, field: str) -> int:  # Any: decoded JSON
    if isinstance(raw, bool) or not isinstance(raw, int):
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            return int(raw)  # MLflow's JSON sends int64 as strings
        raise InvalidInputError(f"{field} must be an integer", field=field)
    return raw


def _key(raw: Any, field: str) -> str:  # Any: decoded JSON
    if not isinstance(raw, str) or not raw:
        raise InvalidInputError(f"{field} must be a non-empty string", field=field)
    return raw


def parse_metrics(raw: Any) -> list[Metric]:  # Any: decoded JSON
    """Accept a list of point objects or a dict of four equal-length columns."""
    now = int(time.time() * 1000)
    if isinstance(raw, dict):
        cols = {}
        for name in ("key", "value", "step", "timestamp"):
            col = raw.get(name, [] if name in ("step", "timestamp") else None)
            if not isinstance(col, list):
                raise InvalidInputError(f"metrics.{name} must be a list", field=f"metrics.{name}")
            cols[name] = col
        n = len(cols["key"])
        for name in ("value", "step", "timestamp"):
            if cols[name] and len(cols[name]) != n or (name == "value" and len(cols[name]) != n):
                raise InvalidInputError(f"metrics.{name} has {len(cols[name])} items; metrics.key has {n}", field=f"metrics.{name}")
        keys, values, steps, stamps = cols["key"], cols["value"], cols["step"], cols["timestamp"]
        out = []
        for i in range(n):
            key = keys[i] if type(keys[i]) is str and keys[i] else _key(keys[i], f"metrics.key[{i}]")
            v = values[i]
            value = float(v) if type(v) in (float, int) else _value(v, f"metrics.value[{i}]")
            step = (steps[i] if type(steps[i]) is int else _int(steps[i], f"metrics.step[{i}]")) if steps else 0
            ts = (stamps[i] if type(stamps[i]) is int else _int(stamps[i], f"metrics.timestamp[{i}]")) if stamps else now
            out.append(Metric(key, value, step, ts))
        return out
    if not isinstance(raw, list):
        raise InvalidInputError("metrics must be a list of points or an object of columns", field="metrics")
    out = []
    for i, point in enumerate(raw):
        if not isinstance(point, dict):
            raise InvalidInputError(f"metrics[{i}] must be an object", field=f"metrics[{i}]")
        if "value" not in point:
            raise InvalidInputError(f"metrics[{i}].value is required", field=f"metrics[{i}].value")
        out.append(
            Metric(
                _key(point.get("key"), f"metrics[{i}].key"),
                _value(point["value"], f"metrics[{i}].value"),
                _int(point.get("step", 0), f"metrics[{i}].step"),
                _int(point["timestamp"], f"metrics[{i}].timestamp") if point.get("timestamp") is not None else now,
            )
        )
    return out
