"""Domain types and rules. Pure Python: no I/O, no SQLAlchemy, no pydantic."""

from __future__ import annotations

from steward.core.entities import (
    AuditEntry,
    Experiment,
    Metric,
    Param,
    Run,
    RunInput,
    RunStatus,
    Tag,
)
from steward.core.filters import (
    Comparison,
    FilterExpr,
    Logical,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from steward.core.limits import validate_metric, validate_name, validate_param, validate_tag

__all__ = [
    "AuditEntry",
    "Comparison",
    "Experiment",
    "FilterExpr",
    "Logical",
    "Metric",
    "OrderBy",
    "Param",
    "Run",
    "RunInput",
    "RunStatus",
    "Tag",
    "parse_filter",
    "parse_order_by",
    "validate_metric",
    "validate_name",
    "validate_param",
    "validate_tag",
]
