"""Per-column profile of a dataset version, computed with polars, in memory or streamed.

Two ways to the same document (same keys, same meaning):

* In memory (:func:`profile`): exact on the whole data: row count, missing count and
  share, min, max, mean, standard deviation, and for text, boolean and categorical
  columns the exact distinct count and top categories, and exact distinct counts except
  for floating-point columns, which use polars' HyperLogLog (``approx_n_unique``, a few
  per cent error, flagged ``distinct_approx``): exactly counting distinct floats costs
  about 0.1 s per million values per column, which alone would take the profile of
  1,000,000 x 26 past a second.
* Streamed (:func:`profile_batches`, or :func:`profile` with ``streaming=True``): the data
  arrives batch by batch and every statistic is merged into state of constant size, so
  profiling a file larger than memory needs a few hundred MB at most. Counts, missing,
  min and max are exact; mean and standard deviation are merged exactly (Chan et al.'s
  pairwise update, equal up to rounding); distinct counts are exact up to
  :data:`DISTINCT_EXACT_CAP` values per column and a HyperLogLog estimate beyond
  (``distinct_approx: true``); top categories are exact up to :data:`TOP_CAPACITY`
  distinct values and Misra-Gries lower bounds beyond (``top_approx: true`` with
  ``top_max_error``, the most any count can be short). See ``steward.data._sketches``.
  Polars' own streaming engine is not enough: its ``value_counts`` holds the whole
  column, which doubled peak memory from a 1 GB to a 2 GB file.

Quantiles and the histogram come, in both ways, from the same systematic sample of at
most :data:`SAMPLE_ROWS` rows (every k-th row, so the result is deterministic); the
profile says when it sampled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import polars as pl

from ._sketches import DistinctCounter, TopCounter

__all__ = [
    "DISTINCT_EXACT_CAP",
    "HISTOGRAM_BINS",
    "QUANTILES",
    "SAMPLE_ROWS",
    "TOP_CAPACITY",
    "TOP_CATEGORIES",
    "profile",
    "profile_batches",
]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 10
# 200k rows put a quantile's sampling error near 0.1 percentile points; sorting them
# costs a few ms per column.
SAMPLE_ROWS = 200_000
# Streamed profiles keep at most this many distinct values per column for an exact count
# (about 1 MB for integers, a few MB for short text) before switching to a HyperLogLog.
DISTINCT_EXACT_CAP = 100_000
# Values tracked per categorical column when streaming; a count is short by at most
# rows / 20,001 (0.005% of the rows) once a column has more distinct values than this.
TOP_CAPACITY = 20_000
# Rows per batch when a LazyFrame is streamed through :func:`profile_batches`.
_STREAM_BATCH_ROWS = 262_144


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype.is_temporal():
        return "temporal"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return "categorical"
    return "other"


@dataclass(slots=True)
class _Stats:
    """One column's whole-data results, however they were computed."""

    missing: int = 0
    distinct: int = 0
    distinct_approx: bool = False
    minimum: Any = None  # Any: a scalar of the column's type
    maximum: Any = None  # Any: a scalar of the column's type
    mean: float | None = None
    std: float | None = None
    top: list[tuple[Any, int]] = field(default_factory=list)  # Any: a value of the column
    top_max_error: int = 0


def profile(
    frame: pl.DataFrame | pl.LazyFrame, *, num_rows: int | None = None, streaming: bool = False
) -> dict[str, Any]:  # Any: JSON document
    """Profile every column of ``frame``.

    Args:
        frame: the data; a LazyFrame (e.g. ``pl.scan_parquet``) is scanned, not loaded.
        num_rows: the row count when known (saves a pass over a LazyFrame).
        streaming: stream the data through :func:`profile_batches` (bounded memory for
            data larger than RAM; distinct counts and top categories may be approximate,
            as the profile then says).

    Returns:
        ``{"num_rows", "sampled", "sample_rows", "streamed", "columns": {name: {...}},
        "warnings"}``; each column holds ``kind``, ``type``, ``count``, ``missing``,
        ``missing_share``, ``distinct`` and, by kind, ``min``/``max``/``mean``/``std``/
        ``quantiles``/``histogram`` (numeric), ``min``/``max`` (temporal) or ``top``
        (categorical and boolean: ``[{"value", "count", "share"}]``).
    """
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    if num_rows is None:
        num_rows = int(lazy.select(pl.len()).collect().item())
    if streaming:
        return profile_batches(lazy.collect_batches(chunk_size=_STREAM_BATCH_ROWS), schema, num_rows)
    kinds = {name: _kind(dtype) for name, dtype in schema.items()}

    scalars = lazy.select(_scalar_aggs(kinds, {n: d.is_float() for n, d in schema.items()})).collect().row(0, named=True) if kinds else {}
    categorical = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
    counts = pl.collect_all(
        [lazy.select(pl.col(c).value_counts(sort=True, name="count")).unnest(c) for c in categorical]
    )
    numeric = [c for c, k in kinds.items() if k == "numeric"]
    step = _sample_step(num_rows)
    sample = (
        (lazy.select(numeric).gather_every(step) if step > 1 else lazy.select(numeric)).collect()
        if numeric
        else pl.DataFrame()
    )
    stats: dict[str, _Stats] = {}
    for name, dtype in schema.items():
        kind = kinds[name]
        s = _Stats(missing=int(scalars[f"{name}\x00missing"]))
        if kind in ("numeric", "temporal"):
            s.minimum, s.maximum = scalars[f"{name}\x00min"], scalars[f"{name}\x00max"]
        if kind == "numeric":
            s.mean, s.std = scalars[f"{name}\x00mean"], scalars[f"{name}\x00std"]
            s.distinct_approx = dtype.is_float()
        if kind in ("categorical", "boolean"):
            vc = counts[categorical.index(name)].drop_nulls(name)
            s.distinct = vc.height
            s.top = [(v, int(n)) for v, n in vc.head(TOP_CATEGORIES).iter_rows()]
        else:
            s.distinct = int(scalars[f"{name}\x00distinct"])
        stats[name] = s
    return _document(schema, kinds, stats, num_rows, sample, step, streamed=False)


def profile_batches(batches: Iterable[pl.DataFrame], schema: pl.Schema, num_rows: int) -> dict[str, Any]:  # Any: JSON
    """Profile data that arrives in batches, in memory independent of its size.

    Args:
        batches: the rows in order, as DataFrames of ``schema`` (e.g. one per Parquet row
            group); each is dropped once merged.
        schema: the columns' names and types.
        num_rows: the total row count (fixes the sampling step before the first batch).

    Returns:
        The same document as :func:`profile`, with ``"streamed": true`` and accuracy
        flags (``distinct_approx``, ``top_approx``, ``top_max_error``) where a sketch
        took over from an exact count.
    """
    acc = _Accumulator(schema, num_rows)
    for batch in batches:
        acc.update(batch)
    return acc.finish()


class _Accumulator:
    """Merges batch statistics into per-column state of constant size."""

    def __init__(self, schema: pl.Schema, num_rows: int) -> None:
        self.schema = schema
        self.num_rows = num_rows
        self.kinds = {name: _kind(dtype) for name, dtype in schema.items()}
        self.numeric = [c for c, k in self.kinds.items() if k == "numeric"]
        self.step = _sample_step(num_rows)
        self.offset = 0
        self.samples: list[pl.DataFrame] = []
        self.stats = {name: _Stats() for name in schema}
        self.count = dict.fromkeys(schema, 0)
        self.m2 = dict.fromkeys(self.numeric, 0.0)
        self.distinct = {name: DistinctCounter(DISTINCT_EXACT_CAP) for name in schema}
        self.tops = {
            name: TopCounter(TOP_CAPACITY, dtype)
            for name, dtype in schema.items()
            if self.kinds[name] in ("categorical", "boolean")
        }

    def update(self, batch: pl.DataFrame) -> None:
        if batch.height == 0:
            return
        row = batch.select(self._aggs()).row(0, named=True)
        for name in self.schema:
            s, kind = self.stats[name], self.kinds[name]
            missing = int(row[f"{name}\x00missing"])
            s.missing += missing
            if kind in ("numeric", "temporal"):
                s.minimum = _pick(min, s.minimum, row[f"{name}\x00min"])
                s.maximum = _pick(max, s.maximum, row[f"{name}\x00max"])
            if kind == "numeric":
                self._merge_moments(name, batch.height - missing, row[f"{name}\x00mean"], row[f"{name}\x00var"])
            if name in self.tops:
                self.distinct[name].update(self.tops[name].update(batch[name]))
            else:
                self.distinct[name].update(batch[name])
        if self.numeric:
            start = -self.offset % self.step
            if start < batch.height:
                self.samples.append(batch.select(self.numeric).gather_every(self.step, offset=start))
        self.offset += batch.height

    def _aggs(self) -> list[pl.Expr]:
        aggs: list[pl.Expr] = []
        for name, kind in self.kinds.items():
            c = pl.col(name)
            aggs.append(c.null_count().alias(f"{name}\x00missing"))
            if kind in ("numeric", "temporal"):
                aggs += [c.min().alias(f"{name}\x00min"), c.max().alias(f"{name}\x00max")]
            if kind == "numeric":
                f = c.cast(pl.Float64)
                aggs += [f.mean().alias(f"{name}\x00mean"), f.var(ddof=0).alias(f"{name}\x00var")]
        return aggs

    def _merge_moments(self, name: str, n_b: int, mean_b: float | None, var_b: float | None) -> None:
        if n_b == 0 or mean_b is None or var_b is None:
            return
        s, n_a = self.stats[name], self.count[name]
        n = n_a + n_b
        if n_a == 0:
            s.mean, self.m2[name] = mean_b, var_b * n_b
        else:
            assert s.mean is not None
            delta = mean_b - s.mean
            s.mean += delta * n_b / n
            self.m2[name] += var_b * n_b + delta * delta * n_a * n_b / n
        self.count[name] = n

    def finish(self) -> dict[str, Any]:  # Any: JSON document
        for name, s in self.stats.items():
            counter = self.distinct[name]
            s.distinct, s.distinct_approx = counter.count(), counter.approximate
            if name in self.numeric and self.count[name] > 1:
                s.std = math.sqrt(self.m2[name] / (self.count[name] - 1))
            if name in self.tops:
                s.top = self.tops[name].top(TOP_CATEGORIES)
                s.top_max_error = self.tops[name].max_error
        sample = (
            pl.concat(self.samples)
            if self.samples
            else pl.DataFrame(schema={n: self.schema[n] for n in self.numeric})
        )
        return _document(self.schema, self.kinds, self.stats, self.num_rows, sample, self.step, streamed=True)


def _pick(choose: Any, current: Any, new: Any) -> Any:  # Any: min or max over scalars
    if new is None or (isinstance(new, float) and math.isnan(new)):
        return current
    return new if current is None else choose(current, new)


def _sample_step(num_rows: int) -> int:
    return max(1, math.ceil(num_rows / SAMPLE_ROWS))


def _document(
    schema: pl.Schema,
    kinds: dict[str, str],
    stats: dict[str, _Stats],
    num_rows: int,
    sample: pl.DataFrame,
    step: int,
    *,
    streamed: bool,
) -> dict[str, Any]:  # Any: JSON document
    columns: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for name, dtype in schema.items():
        kind, s = kinds[name], stats[name]
        col: dict[str, Any] = {
            "kind": kind,
            "type": str(dtype),
            "count": num_rows - s.missing,
            "missing": s.missing,
            "missing_share": s.missing / num_rows if num_rows else 0.0,
        }
        if s.missing == num_rows:
            col["warnings"] = ["every value is missing"]
            warnings.append(f"column {name!r} is entirely missing")
        if kind in ("numeric", "temporal"):
            col["min"] = _json(s.minimum)
            col["max"] = _json(s.maximum)
        col["distinct"] = s.distinct
        if kind == "numeric":
            col["distinct_approx"] = s.distinct_approx
            col["mean"] = _json(s.mean)
            col["std"] = _json(s.std)
            col.update(_distribution(sample[name], col["min"], col["max"]))
        elif s.distinct_approx:
            # only streamed profiles of many distinct values get here: say so
            col["distinct_approx"] = True
        if kind in ("categorical", "boolean"):
            col["top"] = [
                {"value": _json(v), "count": n, "share": n / num_rows} for v, n in s.top
            ]
            if s.top_max_error:
                col["top_approx"] = True
                col["top_max_error"] = s.top_max_error
        columns[name] = col
    return {
        "num_rows": num_rows,
        "sampled": step > 1,
        "sample_rows": sample.height if kinds and any(k == "numeric" for k in kinds.values()) else 0,
        "streamed": streamed,
        "columns": columns,
        "warnings": warnings,
    }


def _scalar_aggs(kinds: dict[str, str], approx: dict[str, bool]) -> list[pl.Expr]:
    aggs: list[pl.Expr] = []
    for name, kind in kinds.items():
        c = pl.col(name)
        aggs.append(c.null_count().alias(f"{name}\x00missing"))
        if kind == "numeric" and approx[name]:
            aggs.append(c.drop_nulls().approx_n_unique().alias(f"{name}\x00distinct"))
        elif kind in ("numeric", "temporal", "other"):
            aggs.append(c.drop_nulls().n_unique().alias(f"{name}\x00distinct"))
        if kind in ("numeric", "temporal"):
            aggs += [c.min().alias(f"{name}\x00min"), c.max().alias(f"{name}\x00max")]
        if kind == "numeric":
            aggs += [c.mean().alias(f"{name}\x00mean"), c.std().alias(f"{name}\x00std")]
    return aggs


def _distribution(sample: pl.Series, lo: Any, hi: Any) -> dict[str, Any]:  # Any: JSON values
    values = sample.drop_nulls().cast(pl.Float64).sort().to_numpy()
    if values.size == 0 or lo is None or hi is None:
        return {"quantiles": {}, "histogram": {"edges": [], "counts": []}}
    last = values.size - 1
    quantiles = {f"p{round(q * 100):02d}": float(values[round(q * last)]) for q in QUANTILES}
    lo_f, hi_f = float(lo), float(hi)
    if lo_f == hi_f:
        edges = [lo_f, hi_f]
        counts = [int(values.size)]
    else:
        edge_arr = np.linspace(lo_f, hi_f, HISTOGRAM_BINS + 1)
        counts_arr, _ = np.histogram(values, edge_arr)
        edges, counts = edge_arr.tolist(), counts_arr.tolist()
    return {"quantiles": quantiles, "histogram": {"edges": edges, "counts": counts, "sample_rows": int(values.size)}}


def _json(value: Any) -> Any:  # Any: a scalar from polars
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (Sequence, dict)) and not isinstance(value, str):
        return str(value)
    return value
