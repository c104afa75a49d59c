"""Segments of the prediction log: rows buffered in memory, then one Parquet file.

One row per predicted row (a 100-row request is 100 rows sharing a ``request_id``, told
apart by ``row``). Columns::

    request_id  row  timestamp  model_name  model_version  variant  shadow  latency_ms
    input.<feature> ...          (absent when inputs are not logged)
    output                       (a scalar, the vector as a list, or named outputs as a struct)
    output.<i> | output.<name>   (vector or named outputs: one column per component)
    cpu_ms                       (measured CPU milliseconds of the model call, shared evenly by
                                  the request's rows, so a sum over rows is CPU time; absent
                                  when not measured)

The buffer keeps plain Python columns and builds Arrow arrays once per segment: a request
costs a few list extends in the writer thread, not an Arrow table.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from steward.core.predictions import PredictionBatch
from steward.errors import InvalidInputError

__all__ = ["BASE_COLUMNS", "SegmentBuffer", "decode_segment", "encode_segment", "segment_path", "validate_deployment"]

PREFIX = "predictions"
BASE_COLUMNS = ("request_id", "row", "timestamp", "model_name", "model_version", "variant", "shadow", "latency_ms")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TYPES: Mapping[str, pa.DataType] = {
    "request_id": pa.string(),
    "row": pa.int32(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "model_name": pa.string(),
    "model_version": pa.int32(),
    "variant": pa.string(),
    "shadow": pa.bool_(),
    "latency_ms": pa.float64(),
}
# a rough per-value cost in memory and in an uncompressed column: enough to bound a segment
_VALUE_BYTES = 9


def validate_deployment(name: str) -> str:
    """The deployment (or bare model) name, checked: it becomes a folder of the log.

    Raises:
        InvalidInputError: not 1-64 letters, digits, ``.``, ``_`` or ``-`` starting with a letter or digit.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            "a deployment name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", field="deployment"
        )
    return name


def segment_path(deployment: str, min_time: int) -> str:
    """``predictions/<deployment>/<yyyy-mm-dd>/<min time>-<random>.parquet`` (UTC day of the first row)."""
    day = dt.datetime.fromtimestamp(min_time / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
    return f"{PREFIX}/{deployment}/{day}/{min_time:013d}-{uuid.uuid4().hex[:16]}.parquet"


def _plain(values: Sequence[object]) -> list[object]:
    if type(values) is list:
        return values
    tolist = getattr(values, "tolist", None)  # numpy arrays and pandas series: one C call
    return list(tolist()) if tolist is not None else list(values)


class SegmentBuffer:
    """The rows of one deployment's next segment."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.rows = 0
        self.approx_bytes = 0
        self.min_time: int | None = None
        self.max_time: int | None = None
        self._cols: dict[str, list[object]] = {name: [] for name in BASE_COLUMNS}
        self._input_names: dict[str, str] = {}  # feature -> its column name, built once

    def add(self, batch: PredictionBatch, *, log_inputs: bool) -> None:
        """Append the batch's rows.

        Raises:
            ValueError: inputs of another length than the outputs.
        """
        outputs = _plain(batch.outputs)
        n = len(outputs)
        if n == 0:
            return
        # everything is checked and built before the first column grows, so a bad batch
        # leaves the buffer as it was
        extra: list[tuple[str, list[object]]] = []
        if log_inputs and batch.inputs:
            names = self._input_names
            for name, values in batch.inputs.items():
                column = _plain(values)
                if len(column) != n:
                    raise ValueError(f"input {name!r} has {len(column)} values for {n} outputs")
                key = names.get(name)
                if key is None:
                    key = names[name] = f"input.{name}"
                extra.append((key, column))
        first = outputs[0]
        if isinstance(first, Mapping):  # named outputs (a model answering several columns)
            extra.append(("output", [dict(o) if isinstance(o, Mapping) else None for o in outputs]))
            for name in first:
                extra.append((f"output.{name}", [o.get(name) if isinstance(o, Mapping) else None for o in outputs]))
        elif isinstance(first, list | tuple):
            vectors = [list(o) if isinstance(o, list | tuple) else [o] for o in outputs]
            extra.append(("output", vectors))  # type: ignore[arg-type]
            for i in range(max(len(v) for v in vectors)):
                extra.append((f"output.{i}", [v[i] if i < len(v) else None for v in vectors]))
        else:
            extra.append(("output", outputs))
        if batch.cpu_ms is not None:
            extra.append(("cpu_ms", [float(batch.cpu_ms) / n] * n))
        cols = self._cols
        base = (batch.request_id, None, batch.timestamp_ms, batch.model_name, batch.model_version, batch.variant, batch.shadow, batch.latency_ms)
        for name, value in zip(BASE_COLUMNS, base, strict=True):
            if name == "row":
                cols[name].extend(range(n))
            elif n == 1:
                cols[name].append(value)
            else:
                cols[name].extend([value] * n)
        rows = self.rows
        for key, values in extra:
            col = cols.get(key)
            if col is None:
                col = cols[key] = [None] * rows
            col.extend(values)
        self.rows = rows = rows + n
        if len(extra) + len(BASE_COLUMNS) != len(cols):  # columns this batch did not have
            for col in cols.values():
                if len(col) < rows:
                    col.extend([None] * (rows - len(col)))
        self.approx_bytes += n * (64 + len(batch.request_id) + _VALUE_BYTES * len(extra)) + sum(_text_bytes(v) for _k, v in extra)
        ts = batch.timestamp_ms
        if self.min_time is None or ts < self.min_time:
            self.min_time = ts
        if self.max_time is None or ts > self.max_time:
            self.max_time = ts

    def to_table(self) -> pa.Table:
        """The rows as one Arrow table; a column whose values disagree on a type is stored as text."""
        arrays: list[pa.Array] = []
        for name, values in self._cols.items():
            if name == "output" and _mixes_vectors(values):
                # variants that disagree on the output's shape (a shadow answering probabilities):
                # the vectors stay in their output.<i> columns, the scalars in output
                values = [None if isinstance(v, list | dict) else v for v in values]
            arrays.append(_array(values, _TYPES.get(name)))
        return pa.Table.from_arrays(arrays, names=list(self._cols))


def _text_bytes(values: list[object]) -> int:
    """The length of a text column's values (numbers are counted per value elsewhere), so that
    long strings (free text, documents) close a segment by size as they should."""
    if not values or not isinstance(values[0], str | bytes):
        return 0
    try:
        return sum(map(len, values))  # type: ignore[arg-type]
    except TypeError:  # a None among the strings
        return sum(len(v) for v in values if isinstance(v, str | bytes))


def _mixes_vectors(values: list[object]) -> bool:
    kinds = {type(v) if isinstance(v, list | dict) else None for v in values if v is not None}
    return len(kinds) > 1


def _array(values: list[object], type_: pa.DataType | None) -> pa.Array:
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        # e.g. one model version answered numbers and the next strings: keep both, as text
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def encode_segment(table: pa.Table) -> bytes:
    """The table as Parquet bytes (zstd)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def decode_segment(data: bytes, columns: Sequence[str] | None = None) -> pa.Table:
    """A segment's table (optionally only some columns)."""
    return pq.read_table(pa.BufferReader(data), columns=list(columns) if columns is not None else None)


def schema_of(table: pa.Table) -> dict[str, str]:
    """Column name -> Arrow type, as the index stores it."""
    return {f.name: str(f.type) for f in table.schema}
