"""Validation rules for names, params, tags and metrics (shared by SDK, server and store)."""

from __future__ import annotations

import re

from steward.core.names import check_name
from steward.errors import InvalidInputError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MIN_STEP = -(2**63)
MAX_STEP = 2**63 - 1
_KEY_RE = re.compile(r"[A-Za-z0-9_\-. /:]+")


def validate_name(kind: str, value: str, *, field: str = "name") -> str:
    """Check an experiment or run name: non-empty, at most 250 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{kind} name must be a non-empty string", field=field)
    check_name(value, field, kind=f"{kind} name")
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{kind} name is {len(value)} characters; the maximum is {MAX_KEY_LENGTH}", field=field
        )
    return value


def validate_key(kind: str, key: str, *, field: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"{kind} key must be a non-empty string", field=field)
    check_name(key, field, kind=f"{kind} key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{kind} key is {len(key)} characters; the maximum is {MAX_KEY_LENGTH}", field=field
        )
    if not _KEY_RE.fullmatch(key) or ".." in key.split("/") or key.startswith("/"):
        raise InvalidInputError(
            f"{kind} key {key[:60]!r} may only hold letters, digits, '_', '-', '.', ' ', ':' and '/'",
            field=field,
        )
    return key


def validate_param(key: str, value: object, *, field: str = "params") -> str:
    """Check a param and return its value as a string."""
    validate_key("param", key, field=f"{field}.{key[:60]}" if isinstance(key, str) else field)
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInputError(
            f"param {key!r} value is {len(text)} characters; the maximum is {MAX_PARAM_VALUE_LENGTH}",
            field=f"{field}.{key}",
        )
    return text


def validate_tag(key: str, value: object, *, field: str = "tags") -> str:
    """Check a tag and return its value as a string."""
    validate_key("tag", key, field=field)
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInputError(
            f"tag {key!r} value is {len(text)} characters; the maximum is {MAX_TAG_VALUE_LENGTH}",
            field=f"{field}.{key}",
        )
    return text


def validate_metric(key: str, value: object, step: object, *, field: str = "metrics") -> float:
    """Check a metric point and return the value as float; NaN and ±inf are allowed."""
    validate_key("metric", key, field=field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # numpy scalars expose __float__; strings do not count as numbers
        if isinstance(value, (str, bool)) or not hasattr(value, "__float__"):
            raise InvalidInputError(
                f"metric {key!r} value must be a number, got {type(value).__name__}",
                field=f"{field}.{key}.value",
            )
    # bool has __index__ too, but True as a step is a slip, not a number
    if isinstance(step, bool) or not (isinstance(step, int) or hasattr(step, "__index__")):
        raise InvalidInputError(
            f"metric {key!r} step must be an integer", field=f"{field}.{key}.step"
        )
    if not MIN_STEP <= int(step.__index__()) <= MAX_STEP:
        # steps are stored as signed 64-bit integers by both engines
        raise InvalidInputError(
            f"metric {key!r} step is outside the 64-bit integer range", field=f"{field}.{key}.step"
        )
    try:
        fvalue = float(value)
    except (OverflowError, TypeError, ValueError):
        raise InvalidInputError(
            f"metric {key!r} value is not representable as a float", field=f"{field}.{key}.value"
        ) from None
    return fvalue


# Per-request batch limits. One request is one transaction: these bound its size (and the
# time the store is locked) whatever the body limit allows. The SDK splits larger flushes.
MAX_BATCH_METRICS = 100_000
MAX_BATCH_PARAMS = 1_000
MAX_BATCH_TAGS = 1_000
MAX_BATCH_INPUTS = 100
# MLflow's own limits on /runs/log-batch (mlflow.utils.validation), kept on the
# MLflow-compatible routes so that a client that works against Steward works against MLflow.
MLFLOW_MAX_BATCH_METRICS = 1_000
MLFLOW_MAX_BATCH_PARAMS_TAGS = 100
MLFLOW_MAX_BATCH_ENTRIES = 1_000


def check_batch_size(
    *,
    metrics: int = 0,
    params: int = 0,
    tags: int = 0,
    inputs: int = 0,
    mlflow: bool = False,
) -> None:
    """Refuse a request that logs more than a batch may hold.

    Args:
        metrics, params, tags, inputs: how many of each the request carries.
        mlflow: apply MLflow's limits (1,000 metrics, 100 params, 100 tags, 1,000 in all)
            instead of Steward's (:data:`MAX_BATCH_METRICS` and the others).

    Raises:
        InvalidInputError: naming the field that is over its limit.
    """
    if mlflow:
        limits = {"metrics": MLFLOW_MAX_BATCH_METRICS, "params": MLFLOW_MAX_BATCH_PARAMS_TAGS, "tags": MLFLOW_MAX_BATCH_PARAMS_TAGS}
    else:
        limits = {"metrics": MAX_BATCH_METRICS, "params": MAX_BATCH_PARAMS, "tags": MAX_BATCH_TAGS, "inputs": MAX_BATCH_INPUTS}
    counts = {"metrics": metrics, "params": params, "tags": tags, "inputs": inputs}
    for field, limit in limits.items():
        if counts[field] > limit:
            raise InvalidInputError(
                f"a batch holds at most {limit:,} {field}; got {counts[field]:,}: split it across requests",
                field=field,
            )
    total = metrics + params + tags
    if mlflow and total > MLFLOW_MAX_BATCH_ENTRIES:
        raise InvalidInputError(
            f"a batch holds at most {MLFLOW_MAX_BATCH_ENTRIES:,} metrics, params and tags in all; got {total:,}: "
            "split it across requests",
            field="metrics",
        )
