"""Infer a suite from reference data: a starting point that users then edit by hand."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from steward.errors import InvalidInputError

from ._checks import type_family
from ._suite import Suite
from ._validate import as_lazy

__all__ = ["infer_suite"]

# A text column with at most this many distinct values (and mostly repeats) is treated
# as categorical and gets an `allowed` list; above it, the list would be noise.
MAX_CATEGORIES = 100


def _round_up(share: float) -> float:
    """A missing-share bound with head-room: 20% over the observed share, 3 decimals."""
    return min(1.0, math.ceil((share * 1.2 + 0.001) * 1000) / 1000)


def infer_suite(data: Any, name: str, *, description: str | None = None) -> Suite:  # Any: a frame
    """Infer a suite from reference data.

    Each column gets its type, nullability (or a tolerated missing share with head-room),
    observed min/max for numbers and dates, an allowed set for text columns of at most
    100 categories, and uniqueness when every value is distinct. The table gets a
    minimum row count and a PII check (warning).

    Args:
        data: a polars DataFrame/LazyFrame (or pandas/arrow table).
        name: the suite name.
        description: stored in the suite.

    Returns:
        The :class:`Suite` (not stored; see ``ValidationService.create_suite``).

    Raises:
        InvalidInputError: the data is empty (no rows or no columns).

    Example:
        >>> import polars as pl
        >>> print(infer_suite(pl.DataFrame({"x": [1, 2]}), "s").to_yaml())  # doctest: +SKIP
    """
    lf = as_lazy(data)
    schema = lf.collect_schema()
    if not len(schema):
        raise InvalidInputError("cannot infer a suite from a table with no columns", field="data")
    exprs: list[pl.Expr] = [pl.len().alias("__rows")]
    for i, (col, dtype) in enumerate(schema.items()):
        c = pl.col(col)
        exprs += [c.null_count().alias(f"{i}_nulls"), c.n_unique().alias(f"{i}_distinct")]
        if dtype.is_numeric() or dtype.is_temporal():
            exprs += [c.min().alias(f"{i}_min"), c.max().alias(f"{i}_max")]
    stats = lf.select(exprs).collect().row(0, named=True)
    rows = int(stats["__rows"])
    if rows == 0:
        raise InvalidInputError("cannot infer a suite from an empty table (0 rows)", field="data")
    categorical = [
        col
        for i, (col, dtype) in enumerate(schema.items())
        if type_family(dtype) in ("string", "boolean")
        and stats[f"{i}_distinct"] - (stats[f"{i}_nulls"] > 0) <= MAX_CATEGORIES
        and stats[f"{i}_distinct"] <= max(2, (rows - stats[f"{i}_nulls"]) // 2)
    ]
    categories: dict[str, list[Any]] = {}
    if categorical:
        uniques = lf.select(pl.col(c).drop_nulls().unique().sort().implode() for c in categorical).collect().row(0, named=True)
        categories = {c: list(uniques[c]) for c in categorical}
    columns: dict[str, dict[str, Any]] = {}
    for i, (col, dtype) in enumerate(schema.items()):
        nulls, distinct = int(stats[f"{i}_nulls"]), int(stats[f"{i}_distinct"])
        spec: dict[str, Any] = {}
        family = type_family(dtype)
        if nulls == rows:
            columns[col] = {"description": "every value was missing in the reference", "max_missing": 1.0}
            continue
        if family in ("integer", "float", "string", "boolean", "date", "datetime", "time", "duration"):
            spec["type"] = family
        if nulls == 0:
            spec["nullable"] = False
        else:
            spec["max_missing"] = _round_up(nulls / rows)
        if f"{i}_min" in stats and family in ("integer", "float", "date", "datetime"):
            lo, hi = stats[f"{i}_min"], stats[f"{i}_max"]
            if family in ("date", "datetime"):
                lo, hi = lo.isoformat(), hi.isoformat()
            elif family == "float" and (math.isnan(lo) or math.isnan(hi)):
                lo = hi = None
            if lo is not None:
                spec["min"], spec["max"] = lo, hi
        if col in categories:
            spec["allowed"] = categories[col]
        if family in ("integer", "string") and nulls == 0 and distinct == rows and rows > 1:
            spec["unique"] = True
        columns[col] = spec
    document: dict[str, Any] = {"name": name}
    if description:
        document["description"] = description
    document["rows"] = {"min": 1}
    document["columns"] = columns
    if any(type_family(d) == "string" for d in schema.dtypes()):
        document["checks"] = [{"check": "pii", "severity": "warning"}]
    return Suite.from_document(document)
