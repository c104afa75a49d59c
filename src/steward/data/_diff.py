"""Compare two dataset versions: schema, row count and per-column distribution distance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from steward.core import drift
from steward.errors import InvalidInputError

from ._versions import DatasetVersion

__all__ = ["DIFF_SAMPLE_ROWS", "ColumnDiff", "DatasetDiff", "diff_versions"]

# Distances are computed on at most this many rows per side (every k-th row): enough
# for stable PSI / Jensen-Shannon values, and Wasserstein's sort stays fast.
DIFF_SAMPLE_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class ColumnDiff:
    """How one column present in both versions changed.

    Attributes:
        name: column name.
        type_a: canonical type in ``a``.
        type_b: canonical type in ``b``.
        missing_share_a: share of missing values in ``a``.
        missing_share_b: share of missing values in ``b``.
        distances: ``{"psi": ..., "js": ..., "wasserstein": ...}`` (Wasserstein for
            numeric columns only); empty when a side has no values.
    """

    name: str
    type_a: str
    type_b: str
    missing_share_a: float
    missing_share_b: float
    distances: dict[str, float]

    @property
    def type_changed(self) -> bool:
        return self.type_a != self.type_b


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    """Differences from version ``a`` to version ``b``."""

    a: DatasetVersion
    b: DatasetVersion
    added_columns: tuple[tuple[str, str], ...]
    removed_columns: tuple[tuple[str, str], ...]
    columns: tuple[ColumnDiff, ...]

    @property
    def same_content(self) -> bool:
        return self.a.content_hash == self.b.content_hash

    @property
    def row_change(self) -> int:
        return self.b.num_rows - self.a.num_rows

    @property
    def type_changes(self) -> tuple[ColumnDiff, ...]:
        return tuple(c for c in self.columns if c.type_changed)

    def to_dict(self) -> dict[str, Any]:  # Any: JSON document
        """JSON-ready form."""
        return {
            "a": {"ref": self.a.ref, "content_hash": self.a.content_hash, "num_rows": self.a.num_rows},
            "b": {"ref": self.b.ref, "content_hash": self.b.content_hash, "num_rows": self.b.num_rows},
            "same_content": self.same_content,
            "row_change": self.row_change,
            "added_columns": [{"name": n, "type": t} for n, t in self.added_columns],
            "removed_columns": [{"name": n, "type": t} for n, t in self.removed_columns],
            "type_changes": [{"name": c.name, "type_a": c.type_a, "type_b": c.type_b} for c in self.type_changes],
            "columns": [
                {
                    "name": c.name,
                    "type_a": c.type_a,
                    "type_b": c.type_b,
                    "missing_share_a": c.missing_share_a,
                    "missing_share_b": c.missing_share_b,
                    "distances": c.distances,
                }
                for c in self.columns
            ],
        }


def diff_versions(a: DatasetVersion, b: DatasetVersion, data_a: pl.LazyFrame, data_b: pl.LazyFrame) -> DatasetDiff:
    """Compare ``a`` with ``b``, reading samples of their data for the distances."""
    types_a = {c.name: c.type for c in a.schema}
    types_b = {c.name: c.type for c in b.schema}
    common = [n for n in types_a if n in types_b]
    added = tuple((n, t) for n, t in types_b.items() if n not in types_a)
    removed = tuple((n, t) for n, t in types_a.items() if n not in types_b)
    sample_a = _sample(data_a, common, a.num_rows)
    sample_b = _sample(data_b, common, b.num_rows)
    columns = []
    for name in common:
        columns.append(
            ColumnDiff(
                name,
                types_a[name],
                types_b[name],
                _missing_share(a, name),
                _missing_share(b, name),
                {} if a.content_hash == b.content_hash else _distances(sample_a[name], sample_b[name]),
            )
        )
    return DatasetDiff(a, b, added, removed, tuple(columns))


def _sample(data: pl.LazyFrame, columns: list[str], num_rows: int) -> pl.DataFrame:
    step = max(1, math.ceil(num_rows / DIFF_SAMPLE_ROWS))
    lazy = data.select(columns)
    return (lazy.gather_every(step) if step > 1 else lazy).collect()


def _missing_share(version: DatasetVersion, column: str) -> float:
    columns = version.profile.get("columns", {})
    info = columns.get(column, {}) if isinstance(columns, dict) else {}
    return float(info.get("missing_share", 0.0))


def _distances(a: pl.Series, b: pl.Series) -> dict[str, float]:
    a, b = a.drop_nulls(), b.drop_nulls()
    if a.len() == 0 or b.len() == 0:
        return {}
    numeric = a.dtype.is_numeric() and b.dtype.is_numeric()
    if numeric:
        ra, rb = a.cast(pl.Float64).to_numpy(), b.cast(pl.Float64).to_numpy()
    else:
        ra, rb = a.cast(pl.String).to_numpy(), b.cast(pl.String).to_numpy()
    out: dict[str, float] = {}
    try:
        out["psi"] = drift.psi(ra, rb, categorical=not numeric).statistic
        out["js"] = drift.jensen_shannon(ra, rb, categorical=not numeric).statistic
        if numeric:
            out["wasserstein"] = drift.wasserstein(ra, rb).statistic
    except InvalidInputError:
        # e.g. only infinities on one side: no distance is defined
        pass
    return out
