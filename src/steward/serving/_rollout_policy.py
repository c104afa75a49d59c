"""Rollout policies: a YAML file, checked against :data:`ROLLOUT_POLICY_SCHEMA`, naming the
line of every fault.

Example::

    steps: [5, 25, 50, 100]        # the candidate's share at each step, in percent
    min_requests: 200              # candidate requests per step before it may advance
    min_duration: 2m               # and at least this long per step
    interval: 5s                   # how often the controller looks (default: STEWARD_ROLLOUT_INTERVAL)
    bounds:                        # relative to the primary over the same step
      max_error_rate_ratio: 2.0    # error rate at most 2x the primary's ...
      max_error_rate_delta: 0.01   # ... or at most 1 point above it (the looser holds)
      max_p99_ratio: 1.5           # p99 latency at most 1.5x the primary's ...
      max_p99_delta_ms: 5          # ... or at most 5 ms above it
      max_p99_ms: 250              # and never over 250 ms
    rollback_min_requests: 20      # candidate requests counted before a bound may roll back
    quality:                       # optional, where labels arrive (steward labels ingest)
      metric: accuracy
      max_drop: 0.02
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from steward.core.rollout import QualityBound, RolloutPolicy
from steward.core.yaml_lines import YamlDocument, compose, schema_faults
from steward.errors import InvalidInputError

__all__ = ["ROLLOUT_POLICY_SCHEMA", "is_rollout_policy", "parse_rollout_policy", "rollout_policy_faults"]

_DURATION = {"type": ["string", "number"], "pattern": r"^\d+(\.\d+)?(ms|s|m|h)$"}
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_RATIO = {"type": "number", "minimum": 1}
_NONNEG = {"type": "number", "minimum": 0}

ROLLOUT_POLICY_SCHEMA: dict[str, Any] = {  # Any: JSON Schema
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Steward rollout policy",
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "steps": {
            "type": "array",
            "minItems": 2,
            "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "description": "The candidate's share of traffic at each step, increasing, ending at 100.",
        },
        "min_requests": {"type": "integer", "minimum": 1, "default": 100},
        "min_duration": {**_DURATION, "default": "60s", "description": "A duration: 30s, 2m, 500ms, or seconds."},
        "interval": {**_DURATION, "description": "How often the controller looks (default: the rollout_interval setting)."},
        "rollback_min_requests": {"type": "integer", "minimum": 1, "default": 20},
        "bounds": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_error_rate_ratio": _RATIO,
                "max_error_rate_delta": {"type": "number", "minimum": 0, "maximum": 1},
                "max_p99_ratio": _RATIO,
                "max_p99_delta_ms": _NONNEG,
                "max_p99_ms": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "quality": {
            "type": "object",
            "additionalProperties": False,
            "required": ["metric", "max_drop"],
            "properties": {
                "metric": {"type": "string", "minLength": 1, "maxLength": 64},
                "max_drop": _NONNEG,
                "min_labels": {"type": "integer", "minimum": 1},
            },
        },
    },
}

_DEFAULTS = RolloutPolicy()


def rollout_policy_faults(text: str) -> list[tuple[int, str]]:
    """Every fault of a rollout policy as (line, message), sorted by line; empty when valid."""
    doc = compose(text)
    if not isinstance(doc, YamlDocument):
        return [doc]
    document = doc.data
    if not isinstance(document, dict):
        return [(1, "a rollout policy is a YAML mapping, e.g. `steps: [5, 25, 50, 100]`")]
    faults = schema_faults(doc, ROLLOUT_POLICY_SCHEMA, root_name="policy", durations="30s, 2m or 500ms")
    steps = document.get("steps")
    if isinstance(steps, list) and len(steps) >= 2 and all(isinstance(s, int | float) and not isinstance(s, bool) for s in steps):
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                faults.add((doc.line(("steps", i)), f"steps.{i}: steps must increase ({steps[i]} after {steps[i - 1]})"))
        if steps[-1] != 100:
            faults.add((doc.line(("steps", len(steps) - 1)), "steps: the last step must be 100 (the candidate takes all traffic)"))
    return sorted(faults)


def is_rollout_policy(text: str) -> bool:
    """True when ``text`` looks like a rollout policy (a mapping with ``steps``), for ``steward check``."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(document, dict) and "steps" in document and "name" not in document


def _ms(value: object) -> int:
    if isinstance(value, int | float):
        return int(float(value) * 1000)
    match = _DURATION_RE.match(str(value))
    assert match is not None  # the schema checked it
    return int(float(match.group(1)) * _UNITS_MS[match.group(2)])


def parse_rollout_policy(text: str) -> RolloutPolicy:
    """Read a rollout policy.

    Raises:
        InvalidInputError: naming the line of the first fault (and how many more there are).

    Example:
        >>> parse_rollout_policy("steps: [10, 100]\\nmin_requests: 50").steps
        (10.0, 100.0)
    """
    faults = rollout_policy_faults(text)
    if faults:
        line, message = faults[0]
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise InvalidInputError(f"rollout policy line {line}: {message}{more}", field="policy")
    doc: dict[str, Any] = yaml.safe_load(text)  # Any: validated YAML
    bounds: dict[str, Any] = doc.get("bounds") or {}  # Any: validated YAML
    quality = doc.get("quality")

    def bound(key: str) -> float | None:
        if not bounds:  # no bounds section: the defaults hold
            value: float | None = getattr(_DEFAULTS, key)
            return value
        return float(bounds[key]) if key in bounds else None

    return RolloutPolicy(
        steps=tuple(float(s) for s in doc["steps"]),
        min_requests=int(doc.get("min_requests", _DEFAULTS.min_requests)),
        min_duration_ms=_ms(doc["min_duration"]) if "min_duration" in doc else _DEFAULTS.min_duration_ms,
        max_error_rate_ratio=bound("max_error_rate_ratio"),
        max_error_rate_delta=bound("max_error_rate_delta"),
        max_p99_ratio=bound("max_p99_ratio"),
        max_p99_delta_ms=bound("max_p99_delta_ms"),
        max_p99_ms=bound("max_p99_ms"),
        rollback_min_requests=int(doc.get("rollback_min_requests", _DEFAULTS.rollback_min_requests)),
        interval_s=_ms(doc["interval"]) / 1000 if "interval" in doc else None,
        quality=QualityBound(str(quality["metric"]), float(quality["max_drop"]), int(quality.get("min_labels", 100))) if quality else None,
        text=text,
    )
