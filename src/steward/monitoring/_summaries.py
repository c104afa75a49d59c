"""Mergeable column summaries, read batch by batch so memory does not grow with rows.

A numeric column becomes a histogram on fixed edges taken from the reference's quantiles
(the first bin holds values below the reference's minimum, the last values at or above its
maximum), with the sum of the values in each bin (so each bin has a mean) plus count, mean
and M2 for the moments. A categorical column becomes counts per category bounded to the
``top_k`` most frequent, the rest in an "other" bucket. Both count missing values (null,
NaN, infinities). An embedding column (a list of numbers per row, one length for all) becomes
the per-dimension sum and sum of squares (its mean vector and spread). Summaries of parts merge
into the summary of the whole.

Alongside, a bounded seeded sample of rows (the same row numbers for every column, chosen by
:func:`sample_rows`) feeds what needs rows rather than counts: the domain classifier of
multivariate drift and the MMD of embedding columns. The sample of parts concatenates.

Sources are read in batches of :data:`BATCH_ROWS` rows: a Parquet file by row group
(pyarrow), or an Arrow table already in memory (a stored dataset version).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from steward.errors import InvalidInputError

__all__ = [
    "BATCH_ROWS",
    "DEFAULT_BINS",
    "DEFAULT_TOP_K",
    "SAMPLE_ROWS",
    "ArrowSource",
    "CategorySummary",
    "EmbeddingSummary",
    "NumericSummary",
    "ParquetSource",
    "TableSource",
    "TableSummary",
    "column_kind",
    "numeric_edges",
    "sample_rows",
    "summarise",
]

BATCH_ROWS = 65_536
# 100 quantile bins: the binned KS statistic is within about 1/100 of the exact one and
# the bin means keep Wasserstein within a few percent, at 1.6 KB per numeric column.
DEFAULT_BINS = 100
# Categories kept per column; beyond this the rarest fold into "other". 10,000 keeps a
# 1,000-category column exact and bounds a free-text column.
DEFAULT_TOP_K = 10_000
# Values per numeric column sampled (evenly through the file) to place the reference edges.
EDGE_SAMPLE = 200_000
# Rows per side kept as a sample for the domain classifier and the MMD (both bound their own
# use further); 5,000 rows of 25 columns are about 1 MB.
SAMPLE_ROWS = 5_000


class TableSource(Protocol):
    """Tabular data read in batches."""

    name: str

    def schema(self) -> pa.Schema:
        """The columns and their Arrow types."""
        ...

    def num_rows(self) -> int:
        """Rows in the source."""
        ...

    def batches(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The given columns, :data:`BATCH_ROWS` rows at a time."""
        ...


class ParquetSource:
    """A Parquet file read with pyarrow, one batch at a time.

    Raises:
        NotFoundError: the file does not exist (raised by the caller's resolution).
        InvalidInputError: the file is not a readable Parquet file.
    """

    def __init__(self, path: str | Path, name: str | None = None, row_groups: Sequence[int] | None = None) -> None:
        self.name = name or str(path)
        self.path = Path(path)
        self.row_groups = None if row_groups is None else list(row_groups)
        try:
            self._file = pq.ParquetFile(str(path))
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInputError(
                f"{self.name[:300]!r} is not a readable Parquet file ({str(exc)[:200]})", field="path"
            ) from exc

    def schema(self) -> pa.Schema:
        return self._file.schema_arrow

    def num_rows(self) -> int:
        if self.row_groups is not None:
            return sum(int(self._file.metadata.row_group(g).num_rows) for g in self.row_groups)
        return int(self._file.metadata.num_rows)

    def num_row_groups(self) -> int:
        """Row groups in the file (the parts a cluster reads one per task)."""
        return int(self._file.metadata.num_row_groups)

    def batches(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._file.iter_batches(batch_size=BATCH_ROWS, columns=list(columns), row_groups=self.row_groups)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInputError(f"cannot read {self.name[:300]!r}: {str(exc)[:200]}", field="path") from exc


class ArrowSource:
    """An Arrow table in memory (a dataset version, a frame) read in batches."""

    def __init__(self, table: pa.Table, name: str) -> None:
        self.name = name
        self._table = table

    def schema(self) -> pa.Schema:
        return self._table.schema

    def num_rows(self) -> int:
        return int(self._table.num_rows)

    def batches(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        yield from self._table.select(list(columns)).to_batches(max_chunksize=BATCH_ROWS)


def _is_number(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype))


def column_kind(dtype: pa.DataType) -> str:
    """``numeric`` for integers, floats, decimals, dates and times; ``embedding`` for a list of
    floats (fixed-size or not); ``categorical`` otherwise (booleans too)."""
    if _is_number(dtype) or pa.types.is_temporal(dtype):
        return "numeric"
    if is_list_of_numbers(dtype) and pa.types.is_floating(dtype.value_type):
        return "embedding"
    return "categorical"


def is_list_of_numbers(dtype: pa.DataType) -> bool:
    """A list (fixed-size, large or not) of numbers: a column that can be declared an embedding."""
    lists = pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype)
    return bool(lists and _is_number(dtype.value_type))


def _as_float(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Numbers as float64 with NaN for null (dates and times as their integer ticks)."""
    if pa.types.is_temporal(values.type):
        values = pc.cast(values, pa.int64()) if not pa.types.is_date32(values.type) else pc.cast(values, pa.int32())
    floats = pc.cast(values, pa.float64())
    filled = pc.fill_null(floats, math.nan)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(slots=True)
class NumericSummary:
    """Histogram on fixed edges plus moments; mergeable when the edges are the same.

    Attributes:
        edges: bin edges from the reference (``len(edges) + 1`` bins).
        counts: values per bin.
        sums: sum of the values per bin.
        missing: null, NaN or infinite values.
        count: finite values.
        mean: their mean.
        m2: sum of squared deviations from the mean (Welford / Chan).
    """

    edges: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    sums: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    missing: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def __post_init__(self) -> None:
        if self.counts.size == 0:
            self.counts = np.zeros(self.edges.size + 1)
            self.sums = np.zeros(self.edges.size + 1)

    @property
    def rows(self) -> int:
        """Rows seen, missing included."""
        return self.count + self.missing

    @property
    def sd(self) -> float:
        """Sample standard deviation (0 with fewer than two values)."""
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0

    def bin_means(self) -> npt.NDArray[np.float64]:
        """Mean of the values in each bin (the bin's lower edge where it is empty)."""
        lower = np.concatenate([[self.edges[0] if self.edges.size else 0.0], self.edges])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), lower)

    def update(self, values: npt.NDArray[np.float64]) -> None:
        """Add a batch of values (non-finite ones count as missing)."""
        finite = values[np.isfinite(values)]
        self.missing += int(values.size - finite.size)
        if finite.size == 0:
            return
        # side="right": a value equal to an edge goes to the bin above, as np.histogram does
        index = np.searchsorted(self.edges, finite, side="right")
        self.counts += np.bincount(index, minlength=self.counts.size)
        self.sums += np.bincount(index, weights=finite, minlength=self.counts.size)
        batch_mean = float(finite.mean())
        batch_m2 = float(np.sum((finite - batch_mean) ** 2))
        self._combine(int(finite.size), batch_mean, batch_m2)

    def _combine(self, n: int, mean: float, m2: float) -> None:
        total = self.count + n
        delta = mean - self.mean
        self.m2 = self.m2 + m2 + delta * delta * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.count = total

    def merge(self, other: NumericSummary) -> NumericSummary:
        """The summary of both parts (a new object).

        Raises:
            InvalidInputError: the parts were binned on different edges.
        """
        if not np.array_equal(self.edges, other.edges):
            raise InvalidInputError("numeric summaries on different bin edges cannot be merged", field="edges")
        merged = NumericSummary(self.edges, self.counts + other.counts, self.sums + other.sums, self.missing + other.missing)
        merged.count, merged.mean, merged.m2 = self.count, self.mean, self.m2
        if other.count:
            merged._combine(other.count, other.mean, other.m2)
        return merged


@dataclass(slots=True)
class CategorySummary:
    """Counts per category, bounded to the ``top_k`` most frequent plus an "other" bucket.

    Attributes:
        counts: values per kept category (as text).
        other: values of categories folded out of ``counts``.
        missing: null values.
        top_k: the bound on ``counts``.
    """

    counts: dict[str, int] = field(default_factory=dict)
    other: int = 0
    missing: int = 0
    top_k: int = DEFAULT_TOP_K

    @property
    def rows(self) -> int:
        """Rows seen, missing included."""
        return self.count + self.missing

    @property
    def count(self) -> int:
        """Non-missing values."""
        return sum(self.counts.values()) + self.other

    def update(self, values: pa.Array | pa.ChunkedArray) -> None:
        """Add a batch of values."""
        self.missing += int(values.null_count)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            values = pc.cast(values, pa.string())
        counted = pc.value_counts(values)
        keys = counted.field("values").to_pylist()
        numbers = counted.field("counts").to_pylist()
        for key, number in zip(keys, numbers, strict=True):
            if key is not None:
                self.counts[key] = self.counts.get(key, 0) + int(number)
        self._prune()

    def _prune(self) -> None:
        if len(self.counts) <= self.top_k:
            return
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        self.counts = dict(ranked[: self.top_k])
        self.other += sum(number for _, number in ranked[self.top_k :])

    def merge(self, other: CategorySummary) -> CategorySummary:
        """The summary of both parts (a new object; the smaller ``top_k`` bounds it)."""
        counts = dict(self.counts)
        for key, number in other.counts.items():
            counts[key] = counts.get(key, 0) + number
        merged = CategorySummary(counts, self.other + other.other, self.missing + other.missing, min(self.top_k, other.top_k))
        merged._prune()
        return merged


class RaggedEmbeddingError(InvalidInputError):
    """An embedding column whose vectors differ in length."""


def _vectors(values: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.float64], int]:
    """Non-missing vectors as a rows x dimensions matrix, and the number of missing rows.

    Raises:
        RaggedEmbeddingError: vectors of different lengths.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    valid = values.drop_null()
    missing = len(values) - len(valid)
    if len(valid) == 0:
        return np.zeros((0, 0)), missing
    if pa.types.is_fixed_size_list(valid.type):
        width = valid.type.list_size
    else:
        lengths = np.asarray(pc.list_value_length(valid).to_numpy(zero_copy_only=False))
        width = int(lengths[0])
        if np.any(lengths != width):
            raise RaggedEmbeddingError(
                f"embedding vectors of different lengths ({int(lengths.min())} to {int(lengths.max())})", field="embedding"
            )
    flat = pc.cast(pc.list_flatten(valid), pa.float64()).fill_null(math.nan)
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(len(valid), width), missing


@dataclass(slots=True)
class EmbeddingSummary:
    """Per-dimension sums of an embedding column: its mean vector and spread; mergeable.

    Attributes:
        dim: vector length (0 until a vector was seen).
        sums: sum per dimension.
        squares: sum of squares per dimension.
        count: vectors seen (a vector with a non-finite component counts as missing).
        missing: null vectors or vectors with a non-finite component.
    """

    dim: int = 0
    sums: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    squares: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    count: int = 0
    missing: int = 0

    @property
    def rows(self) -> int:
        """Rows seen, missing included."""
        return self.count + self.missing

    @property
    def mean(self) -> npt.NDArray[np.float64]:
        """The mean vector."""
        return self.sums / max(self.count, 1)

    @property
    def variance(self) -> npt.NDArray[np.float64]:
        """The per-dimension population variance."""
        mean = self.mean
        return np.maximum(self.squares / max(self.count, 1) - mean * mean, 0.0)

    def _fit(self, dim: int) -> None:
        if self.dim == 0 and self.count == 0:
            self.dim, self.sums, self.squares = dim, np.zeros(dim), np.zeros(dim)
        elif dim != self.dim:
            raise RaggedEmbeddingError(f"embedding vectors of {self.dim} and {dim} dimensions in one column", field="embedding")

    def update(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
        """Add a batch; returns its finite vectors (rows x dimensions).

        Raises:
            RaggedEmbeddingError: vectors of different lengths.
        """
        matrix, missing = _vectors(values)
        self.missing += missing
        if matrix.shape[0] == 0:
            return matrix
        self._fit(matrix.shape[1])
        finite = np.all(np.isfinite(matrix), axis=1)
        self.missing += int((~finite).sum())
        matrix = matrix[finite]
        self.sums += matrix.sum(axis=0)
        self.squares += (matrix * matrix).sum(axis=0)
        self.count += int(matrix.shape[0])
        return matrix

    def merge(self, other: EmbeddingSummary) -> EmbeddingSummary:
        """The summary of both parts (a new object).

        Raises:
            RaggedEmbeddingError: the parts hold vectors of different lengths.
        """
        if self.count == 0 and self.dim == 0:
            return EmbeddingSummary(other.dim, other.sums.copy(), other.squares.copy(), other.count, other.missing + self.missing)
        if other.count == 0 and other.dim == 0:
            return EmbeddingSummary(self.dim, self.sums.copy(), self.squares.copy(), self.count, self.missing + other.missing)
        if self.dim != other.dim:
            raise RaggedEmbeddingError(f"embedding vectors of {self.dim} and {other.dim} dimensions in one column", field="embedding")
        return EmbeddingSummary(
            self.dim, self.sums + other.sums, self.squares + other.squares, self.count + other.count, self.missing + other.missing
        )


ColumnSummary = NumericSummary | CategorySummary | EmbeddingSummary


@dataclass(slots=True)
class TableSummary:
    """Summaries of a table's columns (in the order given)."""

    rows: int
    columns: dict[str, ColumnSummary]
    # column -> the sampled rows' values (floats with NaN, labels with None, or for an embedding
    # the finite vectors); the same rows for every column except embeddings (finite vectors only)
    sample: dict[str, npt.NDArray[Any]] = field(default_factory=dict)  # Any: floats, labels or vectors
    # columns whose data could not be summarised (a ragged embedding): name -> why
    invalid: dict[str, str] = field(default_factory=dict)

    def merge(self, other: TableSummary) -> TableSummary:
        """The summary of both tables (the second's sample after the first's).

        Raises:
            InvalidInputError: the tables have different columns or kinds.
        """
        if list(self.columns) != list(other.columns):
            raise InvalidInputError("summaries of different columns cannot be merged", field="columns")
        merged: dict[str, ColumnSummary] = {}
        invalid = {**other.invalid, **self.invalid}
        for name, mine in self.columns.items():
            theirs = other.columns[name]
            if isinstance(mine, NumericSummary) and isinstance(theirs, NumericSummary):  # noqa: SIM114 - typed per kind
                merged[name] = mine.merge(theirs)
            elif isinstance(mine, CategorySummary) and isinstance(theirs, CategorySummary):
                merged[name] = mine.merge(theirs)
            elif isinstance(mine, EmbeddingSummary) and isinstance(theirs, EmbeddingSummary):
                try:
                    merged[name] = mine.merge(theirs)
                except RaggedEmbeddingError as exc:
                    merged[name], invalid[name] = mine, exc.message
            else:
                raise InvalidInputError(f"column {name!r} is of different kinds in the two summaries", field=name)
        sample = {
            name: _concat(self.sample[name], other.sample[name]) if name in other.sample else self.sample[name]
            for name in self.sample
        }
        return TableSummary(self.rows + other.rows, merged, sample, invalid)


def _concat(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[Any]:  # Any: floats, labels or vectors
    if a.ndim == 2 and b.ndim == 2 and (a.shape[0] == 0 or b.shape[0] == 0):
        return a if b.shape[0] == 0 else b
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] != b.shape[1]:
        return a  # vectors of another length: the column is reported invalid
    return np.concatenate([a, b])


def sample_rows(num_rows: int, size: int = SAMPLE_ROWS, seed: int = 0) -> npt.NDArray[np.int64]:
    """Sorted row numbers of a seeded sample of at most ``size`` of ``num_rows`` rows."""
    if num_rows <= size:
        return np.arange(num_rows, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(num_rows, size, replace=False)).astype(np.int64)


def numeric_edges(source: TableSource, columns: Sequence[str], bins: int = DEFAULT_BINS) -> dict[str, npt.NDArray[np.float64]]:
    """Fixed bin edges per numeric column from the reference's quantiles.

    Reads the columns once, keeping every k-th row (at most :data:`EDGE_SAMPLE` values per
    column, evenly through the file). A column with at most ``bins`` distinct sampled values
    gets one bin per value, so discrete columns are binned exactly.
    """
    if not columns:
        return {}
    stride = max(1, math.ceil(source.num_rows() / EDGE_SAMPLE))
    edges: dict[str, npt.NDArray[np.float64]] = {}
    for name in columns:
        chunks: list[npt.NDArray[np.float64]] = []
        offset = 0
        for batch in source.batches([name]):
            values = _as_float(batch.column(0))[(-offset) % stride :: stride]
            chunks.append(values[np.isfinite(values)])
            offset += batch.num_rows
        sample = np.concatenate(chunks) if chunks else np.zeros(0)
        if sample.size == 0:
            edges[name] = np.zeros(0)
            continue
        distinct = np.unique(sample)
        if distinct.size <= bins:
            edges[name] = distinct
        else:
            edges[name] = np.unique(np.quantile(sample, np.linspace(0.0, 1.0, bins + 1)))
    return edges


def summarise(
    source: TableSource,
    kinds: dict[str, str],
    edges: dict[str, npt.NDArray[np.float64]],
    *,
    top_k: int = DEFAULT_TOP_K,
    sample: npt.NDArray[np.int64] | None = None,
) -> TableSummary:
    """Summarise the columns of ``kinds`` (``numeric`` ones on ``edges``), batch by batch.

    Columns are read one at a time (Parquet is columnar, so this reads each byte once): a
    file written as one large row group then costs one column chunk of memory, not the
    whole group.

    Args:
        source: the table.
        kinds: column -> ``numeric``, ``categorical`` or ``embedding``.
        edges: numeric column -> bin edges (from :func:`numeric_edges` on the reference).
        top_k: categories kept per categorical column.
        sample: sorted row numbers (of this source) whose values are kept (:func:`sample_rows`).

    Returns:
        A :class:`TableSummary`; a column of ragged vectors is listed in ``invalid``.
    """
    columns: dict[str, ColumnSummary] = {}
    samples: dict[str, npt.NDArray[Any]] = {}
    invalid: dict[str, str] = {}
    wanted = np.zeros(0, dtype=np.int64) if sample is None else np.asarray(sample, dtype=np.int64)
    for name, kind in kinds.items():
        summary: ColumnSummary
        if kind == "numeric":
            summary = NumericSummary(edges[name])
        elif kind == "embedding":
            summary = EmbeddingSummary()
        else:
            summary = CategorySummary(top_k=top_k)
        kept: list[npt.NDArray[Any]] = []
        offset = 0
        try:
            for batch in source.batches([name]):
                values = batch.column(0)
                lo, hi = np.searchsorted(wanted, [offset, offset + batch.num_rows])
                picked = wanted[lo:hi] - offset
                offset += batch.num_rows
                if isinstance(summary, NumericSummary):
                    floats = _as_float(values)
                    summary.update(floats)
                    kept.append(floats[picked])
                elif isinstance(summary, EmbeddingSummary):
                    taken = values.take(pa.array(picked)) if picked.size else values.slice(0, 0)
                    summary.update(values)
                    kept.append(_vectors(taken)[0] if picked.size else np.zeros((0, summary.dim)))
                else:
                    summary.update(values)
                    kept.append(np.asarray(values.take(pa.array(picked)).cast(pa.string()).to_pylist(), dtype=object))
        except RaggedEmbeddingError as exc:
            invalid[name] = exc.message
            kept = []
        columns[name] = summary
        if sample is None:
            continue
        if kept:
            finite = [k for k in kept if k.ndim == 1 or k.shape[0]]
            samples[name] = _concat_all(finite) if finite else kept[0]
        elif name not in invalid:
            samples[name] = np.zeros((0, 0)) if kind == "embedding" else np.zeros(0, dtype=object if kind == "categorical" else np.float64)
    return TableSummary(source.num_rows(), columns, samples, invalid)


def _concat_all(parts: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:  # Any: floats, labels or vectors
    out = parts[0]
    for part in parts[1:]:
        out = _concat(out, part)
    return out
