"""Parse metric points of a batch request, naming the exact point on error."""

from __future__ import annotations

import math
import time
from typing import Any

from steward.core import Metric
from steward.errors import InvalidInputError

from ._schemas import INT64_MAX, INT64_MIN

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf, "-infinity": -math.inf}


def _value(raw: Any, field: str) -> float:  # Any: decoded JSON
    if isinstance(raw, bool):
        raise InvalidInputError(f"{field} must be a number", field=field)
    if isinstance(raw, (int, float)):
        try:
            return float(raw)
        except OverflowError:
            raise InvalidInputError(f"{field} is too large for a 64-bit float", field=field) from None
    if isinstance(raw, str) and raw.strip().lower() in _NON_FINITE:
        return _NON_FINITE[raw.strip().lower()]
    raise InvalidInputError(f"{field} must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")", field=field)


def _int(raw: Any, field: str) -> int:  # Any: decoded JSON
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) < 25:
        number = int(raw)  # MLflow's JSON sends int64 as strings
    else:
        raise InvalidInputError(f"{field} must be an integer", field=field)
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidInputError(f"{field} must fit in 64 bits", field=field)
    return number


def _key(raw: Any, field: str) -> str:  # Any: decoded JSON
    if not isinstance(raw, str) or not raw:
        raise InvalidInputError(f"{field} must be a non-empty string", field=field)
    return raw


def _columns(raw: dict[str, Any], now: int) -> list[Metric]:  # Any: decoded JSON
    extra = sorted(set(raw) - {"key", "value", "step", "timestamp"})
    if extra:
        raise InvalidInputError(f"metrics.{extra[0][:60]} is not a metrics column", field=f"metrics.{extra[0][:60]}")
    cols: dict[str, list[Any]] = {}  # Any: decoded JSON
    for name in ("key", "value", "step", "timestamp"):
        col = raw.get(name, [] if name in ("step", "timestamp") else None)
        if not isinstance(col, list):
            raise InvalidInputError(f"metrics.{name} must be a list", field=f"metrics.{name}")
        cols[name] = col
    keys, values, steps, stamps = cols["key"], cols["value"], cols["step"], cols["timestamp"]
    n = len(keys)
    for name in ("value", "step", "timestamp"):
        size = len(cols[name])
        if size != n and (name == "value" or size != 0):
            raise InvalidInputError(f"metrics.{name} has {size} items; metrics.key has {n}", field=f"metrics.{name}")
    if not steps:
        steps = [0] * n
    if not stamps:
        stamps = [now] * n
    out = []
    # The common case (str keys, float values, int steps and times in range) takes the
    # branch-light path; anything else goes through the checks that name the bad item.
    for i, (key, value, step, ts) in enumerate(zip(keys, values, steps, stamps, strict=True)):
        if type(key) is not str or not key:
            key = _key(key, f"metrics.key[{i}]")
        value = value if type(value) is float else _value(value, f"metrics.value[{i}]")
        if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            step = _int(step, f"metrics.step[{i}]")
        if type(ts) is not int or not INT64_MIN <= ts <= INT64_MAX:
            ts = _int(ts, f"metrics.timestamp[{i}]")
        out.append(Metric(key, value, step, ts))
    return out


def parse_metrics(raw: Any) -> list[Metric]:  # Any: decoded JSON
    """Accept a list of point objects or a dict of equal-length columns.

    Raises:
        InvalidInputError: naming the first bad item, e.g. ``metrics[3].value``.
    """
    now = int(time.time() * 1000)
    if isinstance(raw, dict):
        return _columns(raw, now)
    if not isinstance(raw, list):
        raise InvalidInputError("metrics must be a list of points or an object of columns", field="metrics")
    out = []
    for i, point in enumerate(raw):
        if not isinstance(point, dict):
            raise InvalidInputError(f"metrics[{i}] must be an object", field=f"metrics[{i}]")
        extra = sorted(set(point) - {"key", "value", "step", "timestamp"})
        if extra:
            field = f"metrics[{i}].{extra[0][:60]}"
            raise InvalidInputError(f"{field} is not a field of a metric point", field=field)
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
