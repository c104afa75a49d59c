"""The content hash of a dataset: sha256 over a canonical Arrow form, streamed.

Canonical form (what "the same content" means):

* Types are normalised so that the loader does not matter: every string type
  (``string``, ``large_string``, ``string_view``) becomes ``large_string``, every binary
  type ``large_binary``; dictionary / categorical columns become their value type; signed
  integers and unsigned ones up to 32 bits become ``int64`` (``uint64`` stays); floats
  become ``float64``; ``date64`` becomes ``date32``; timestamps, times and durations
  become microseconds (sub-microsecond digits are dropped), keeping the time zone.
* Float NaN is a missing value (pandas cannot tell them apart), and so is a pandas
  index: it is dropped (``reset_index()`` first to keep it).
* Column names and order and row order are content; how rows are split into record
  batches or Parquet row groups is not.

Each column feeds separate running sha256 streams (values, string lengths, null
positions as global row numbers), each of which is the same whether a batch arrives
whole or in pieces. The final hash covers the schema, the row count and every stream's
digest, so memory stays at one batch whatever the file size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HASH_FORMAT", "ContentHasher", "canonical_schema", "canonicalize_batch", "content_hash"]

# Bumped whenever the canonical form changes, so old and new hashes never collide.
HASH_FORMAT = "steward-dataset-v1"


def _canonical_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _canonical_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_fixed_size_binary(t):
        return pa.large_binary()
    if pa.types.is_unsigned_integer(t):
        return pa.uint64() if t.bit_width == 64 else pa.int64()
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_date(t):
        return pa.date32()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_duration(t):
        return pa.duration("us")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return pa.large_list(_canonical_type(t.value_type))
    if pa.types.is_fixed_size_list(t):
        return pa.large_list(_canonical_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _canonical_type(f.type)) for f in t])
    return t


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with canonical types, no metadata, every field nullable."""
    return pa.schema([pa.field(f.name, _canonical_type(f.type), nullable=True) for f in schema])


def canonicalize_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast ``batch`` to the canonical ``schema`` and turn float NaN into null."""
    columns = []
    for column, field in zip(batch.columns, schema, strict=True):
        arr = column
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if arr.type != field.type:
            # safe=False: dropping sub-microsecond digits is part of the canonical form
            arr = pc.cast(arr, field.type, safe=not pa.types.is_temporal(field.type))
        if pa.types.is_floating(arr.type):
            nan = pc.is_nan(arr)
            if pc.any(nan).as_py():
                arr = pc.if_else(nan, pa.scalar(None, arr.type), arr)
        columns.append(arr)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _schema_text(schema: pa.Schema) -> str:
    return json.dumps([[f.name, str(f.type)] for f in schema], ensure_ascii=False)


class _ColumnStreams:
    """The running hashes of one column (each independent of batch boundaries)."""

    __slots__ = ("lengths", "nulls", "values")

    def __init__(self) -> None:
        self.values = hashlib.sha256()
        self.lengths = hashlib.sha256()
        self.nulls = hashlib.sha256()

    def digest(self) -> str:
        return self.values.hexdigest() + self.lengths.hexdigest() + self.nulls.hexdigest()


class ContentHasher:
    """Feed canonical record batches in row order; read :meth:`hexdigest` at the end.

    Args:
        schema: the canonical schema (see :func:`canonical_schema`).
    """

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.num_rows = 0
        self._streams = [_ColumnStreams() for _ in schema]

    def update(self, batch: pa.RecordBatch) -> None:
        """Add the next rows (a batch already in the canonical schema)."""
        for column, streams in zip(batch.columns, self._streams, strict=True):
            _feed(column, streams, self.num_rows)
        self.num_rows += batch.num_rows

    def hexdigest(self) -> str:
        """sha256 hex of the format tag, schema, row count and every column's streams."""
        final = hashlib.sha256()
        final.update(HASH_FORMAT.encode())
        final.update(_schema_text(self.schema).encode())
        final.update(str(self.num_rows).encode())
        for streams in self._streams:
            final.update(streams.digest().encode())
        return final.hexdigest()


def _feed(arr: pa.Array, streams: _ColumnStreams, row_offset: int) -> None:
    if arr.null_count:
        positions = np.flatnonzero(~np.asarray(arr.is_valid().to_numpy(zero_copy_only=False))) + row_offset
        streams.nulls.update(positions.astype("<i8").tobytes())
    t = arr.type
    if pa.types.is_null(t):
        return
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        _feed_varlen(arr, streams)
        return
    if pa.types.is_boolean(t):
        filled = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
        streams.values.update(np.asarray(filled, dtype=np.uint8).tobytes())
        return
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t):
        storage = arr.view(pa.int64()) if t.bit_width == 64 and not pa.types.is_floating(t) else arr
        if pa.types.is_date32(t) or pa.types.is_time32(t):
            storage = arr.view(pa.int32())
        if storage.null_count:
            storage = pc.fill_null(storage, pa.scalar(0, storage.type))
        values = storage.to_numpy(zero_copy_only=False)
        streams.values.update(np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes())
        return
    if pa.types.is_decimal(t):
        _feed_varlen(pc.cast(arr, pa.large_string()), streams)
        return
    # nested and rare types: a JSON text per value (slow, but exact and stable)
    texts = pa.array(
        [json.dumps(v, sort_keys=True, default=str, ensure_ascii=False) for v in arr.to_pylist()],
        pa.large_string(),
    )
    _feed_varlen(texts, streams)


def _feed_varlen(arr: pa.Array, streams: _ColumnStreams) -> None:
    if arr.null_count:
        arr = pc.fill_null(arr, pa.scalar("" if pa.types.is_large_string(arr.type) else b"", arr.type))
    offsets = np.frombuffer(arr.buffers()[1], dtype="<i8")[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    if data is not None and len(offsets):
        streams.values.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    streams.lengths.update(np.diff(offsets).astype("<i8").tobytes())


def content_hash(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> str:
    """Hash canonical ``batches`` in one pass (a convenience over :class:`ContentHasher`)."""
    hasher = ContentHasher(schema)
    for batch in batches:
        hasher.update(batch)
    return hasher.hexdigest()
