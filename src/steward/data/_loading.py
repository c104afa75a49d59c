"""Open a data source as a stream of canonical Arrow record batches.

Sources: a pandas or polars DataFrame (or polars LazyFrame), a pyarrow Table or
RecordBatch, or a path to a Parquet or CSV file or a folder of them. Files are streamed
(Parquet by row group, CSV by block) so that a file larger than memory can be hashed,
profiled and stored. Every failure is an :class:`~steward.errors.InvalidInputError` or
:class:`~steward.errors.NotFoundError` with a message naming the file or column.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from steward.errors import InvalidInputError, NotFoundError

from ._hashing import canonical_schema, canonicalize_batch

__all__ = ["BATCH_ROWS", "DataSource", "SchemaChangedError", "open_source", "read_table"]

# Rows per batch handed to the hasher and the Parquet writer: big enough to amortise
# per-batch overhead, small enough that memory stays at tens of MB per batch.
BATCH_ROWS = 65_536
_CSV_BLOCK = 16 << 20
_PARQUET_EXT = (".parquet", ".pq", ".parq")
_CSV_EXT = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".csv.bz2", ".csv.zst")
# Separators a CSV file may use, in order of preference when several fit equally well.
_SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}
_SNIFF_BYTES = 64 << 10
_SNIFF_LINES = 20
_CSV_ERROR = re.compile(r"column #(\d+).*?conversion error to (\w+).*?invalid value '(.*)'", re.DOTALL)

Format = Literal["parquet", "csv"]


class SchemaChangedError(Exception):
    """A CSV column needed a wider type than its first block suggested; read again.

    Internal: the service restarts its single pass when a streaming CSV read finds, say,
    text in a column inferred as numbers. Never reaches users.
    """


@dataclass
class DataSource:
    """An opened source: its canonical schema and a way to stream its rows (restartable).

    Attributes:
        description: what to record as the version's ``source``.
        schema: canonical Arrow schema.
        batches: returns a fresh iterator over canonical record batches.
        warnings: notes about the load (e.g. a column read as text because it mixes types).
        paths: local files behind a path source (empty for in-memory data).
        size_bytes: total size of those files.
    """

    description: str
    schema: pa.Schema
    batches: Callable[[], Iterator[pa.RecordBatch]]
    warnings: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    size_bytes: int = 0


def open_source(source: object) -> DataSource:
    """Open ``source`` for streaming.

    Raises:
        NotFoundError: a path that does not exist.
        InvalidInputError: an unknown format, an unreadable or truncated file, a folder
            with no data files or mixed schemas, a DataFrame column that mixes types.
    """
    if isinstance(source, (str, os.PathLike)):
        return _open_path(Path(os.fspath(source).removeprefix("file://")))
    table = _table_from_object(source)
    schema = canonical_schema(table.schema)
    return DataSource(
        f"<{type(source).__module__.split('.')[0]}.{type(source).__name__}>",
        schema,
        lambda: (canonicalize_batch(b, schema) for b in table.to_batches(max_chunksize=BATCH_ROWS)),
    )


def read_table(source: object) -> pa.Table:
    """Read a whole source into one canonical Arrow table (for data that fits in memory)."""
    while True:
        opened = open_source(source)
        try:
            return pa.Table.from_batches(list(opened.batches()), schema=opened.schema)
        except SchemaChangedError:
            continue


def _table_from_object(source: object) -> pa.Table:
    module = type(source).__module__.split(".")[0]
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if module == "polars":
        import polars as pl

        if isinstance(source, pl.LazyFrame):
            source = source.collect()
        if isinstance(source, pl.DataFrame):
            return source.to_arrow()
    if module == "pandas":
        import pandas as pd

        if isinstance(source, pd.DataFrame):
            return _from_pandas(source)
    raise InvalidInputError(
        f"cannot register a {type(source).__name__}: pass a pandas or polars DataFrame, a pyarrow Table, "
        "or the path of a Parquet or CSV file or folder",
        field="source",
    )


def _from_pandas(frame: Any) -> pa.Table:  # Any: pandas.DataFrame (pandas is optional)
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise InvalidInputError("the DataFrame has duplicate column names", field="source")
    for name, col in zip(columns, frame.columns, strict=True):
        try:
            pa.array(frame[col], from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            kinds = sorted({type(v).__name__ for v in frame[col].dropna().head(10_000)})
            raise InvalidInputError(
                f"column {name!r} mixes types ({', '.join(kinds)}); convert it to one type first",
                field=name,
            ) from exc
    return pa.Table.from_pandas(frame, preserve_index=False)


# -- files ------------------------------------------------------------------------------


def _open_path(path: Path) -> DataSource:
    if not path.exists():
        raise NotFoundError(f"no file or folder at {str(path)[:300]!r}", field="source")
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        )
        if not files:
            raise InvalidInputError(f"folder {str(path)[:300]!r} holds no data files", field="source")
        formats = {_format_of(p) for p in files}
        if len(formats) > 1:
            raise InvalidInputError(f"folder {str(path)[:300]!r} mixes Parquet and CSV files", field="source")
        fmt = formats.pop()
    else:
        files = [path]
        fmt = _format_of(path)
    size = sum(p.stat().st_size for p in files)
    if fmt == "parquet":
        return _open_parquet(path, files, size)
    return _open_csv(path, files, size)


def _format_of(path: Path) -> Format:
    name = path.name.lower()
    if name.endswith(_PARQUET_EXT):
        return "parquet"
    if name.endswith(_CSV_EXT):
        return "csv"
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {str(path)[:300]!r}: {exc.strerror}", field="source") from exc
    if magic == b"PAR1":
        return "parquet"
    raise InvalidInputError(
        f"unknown format of {str(path)[:300]!r}: expected a .parquet or .csv file", field="source"
    )


def _unreadable(path: Path, fmt: str, exc: BaseException) -> InvalidInputError:
    reason = " ".join(str(exc).split())[:200]
    return InvalidInputError(
        f"cannot read {str(path)[:300]!r} as {fmt}: the file is truncated, corrupt or not {fmt} ({reason})",
        field="source",
    )


def _open_parquet(root: Path, files: list[Path], size: int) -> DataSource:
    schema: pa.Schema | None = None
    for p in files:
        try:
            this = canonical_schema(pq.read_schema(p))
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(p, "Parquet", exc) from exc
        if schema is None:
            schema = this
        elif not this.equals(schema):
            raise InvalidInputError(
                f"{p.name!r} has a different schema from the first file of {str(root)[:300]!r}", field="source"
            )
    assert schema is not None
    canonical = schema

    def batches() -> Iterator[pa.RecordBatch]:
        for p in files:
            try:
                # no pre-buffering: it reads a whole row group's column chunks at once,
                # which tripled peak memory on files with 1M-row groups
                with pq.ParquetFile(p, pre_buffer=False, buffer_size=1 << 20) as handle:
                    for batch in handle.iter_batches(batch_size=BATCH_ROWS):
                        yield canonicalize_batch(batch, canonical)
            except (pa.ArrowException, OSError) as exc:
                raise _unreadable(p, "Parquet", exc) from exc

    return DataSource(str(root), canonical, batches, paths=[str(p) for p in files], size_bytes=size)


def _open_csv(root: Path, files: list[Path], size: int) -> DataSource:
    csv = _CsvSource(root, files)
    source = DataSource(str(root), csv.schema, csv.batches, csv.warnings, [str(p) for p in files], size)
    csv.owner = source
    return source


class _CsvSource:
    """Streams CSV files; widens a column's type when a later block or file needs it.

    pyarrow infers CSV types from the first block. When a later value does not fit (text
    in a numeric column, a float in an integer column, a value in a column that was empty
    so far) the column is widened (int -> float -> text; empty -> the value's type), a
    warning is kept for the profile, and :class:`SchemaChangedError` asks for a new pass.
    """

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root
        self.files = files
        self.overrides: dict[str, pa.DataType] = {}
        self.warnings: list[str] = []
        self.owner: DataSource | None = None
        self.delimiters: dict[Path, str] = {}
        stream = self._reader(files[0])
        self.schema = canonical_schema(stream.schema)
        stream.close()
        _refuse_one_merged_column(files[0], self.schema.names)

    def _reader(self, p: Path) -> pacsv.CSVStreamingReader:
        if p not in self.delimiters:
            self.delimiters[p] = sniff_delimiter(p)
        delimiter = self.delimiters[p]
        try:
            return pacsv.open_csv(
                pa.input_stream(str(p), compression="detect"),
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                # like polars: an empty field is missing, "NA" is text
                convert_options=pacsv.ConvertOptions(
                    column_types=self.overrides, null_values=[""], strings_can_be_null=True
                ),
            )
        except (pa.ArrowException, OSError) as exc:
            self._retry_or_raise(p, exc, None)
            raise  # unreachable: _retry_or_raise always raises

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = self.schema
        for p in self.files:
            stream = self._reader(p)
            try:
                this = canonical_schema(stream.schema)
                if this.names != schema.names:
                    raise InvalidInputError(
                        f"{p.name!r} has different columns from the first file of {str(self.root)[:300]!r}",
                        field="source",
                    )
                if not this.equals(schema):
                    self._align(this)
                while True:
                    try:
                        batch = stream.read_next_batch()
                    except StopIteration:
                        break
                    except (pa.ArrowException, OSError) as exc:
                        self._retry_or_raise(p, exc, stream.schema)
                    yield canonicalize_batch(batch, schema)
            finally:
                stream.close()

    def _align(self, other: pa.Schema) -> None:
        for mine, theirs in zip(self.schema, other, strict=True):
            if mine.type == theirs.type:
                continue
            self.overrides[mine.name] = _wider(mine.type, theirs.type)
        self._changed()

    def _retry_or_raise(self, p: Path, exc: BaseException, arrow_schema: pa.Schema | None) -> None:
        match = _CSV_ERROR.search(str(exc))
        if match is None or arrow_schema is None:
            raise _unreadable(p, "CSV", exc) from exc
        name = arrow_schema.names[int(match.group(1))]
        current, value = match.group(2), match.group(3)
        found = _type_of_text(value)
        if current == "null":
            target = found
        elif current == "int64" and found == pa.float64():
            target = pa.float64()
        else:
            target = pa.large_string()
            if current in ("int64", "double"):
                self.warnings.append(
                    f"column {name!r} mixes numbers and text (e.g. {value[:40]!r}); it was loaded as text"
                )
        self.overrides[name] = target
        self._changed()

    def _changed(self) -> None:
        stream = self._reader(self.files[0])
        self.schema = canonical_schema(
            pa.schema([pa.field(f.name, self.overrides.get(f.name, f.type)) for f in stream.schema])
        )
        stream.close()
        if self.owner is not None:
            self.owner.schema = self.schema
        raise SchemaChangedError


def sniff_delimiter(path: Path) -> str:
    """The separator of a CSV file, read from its header and first lines.

    The separator that splits the header into more than one column and every one of the
    first lines into the same number of fields wins (``,`` first, then ``;``, tab, ``|``);
    a UTF-8 byte-order mark is ignored (pyarrow skips it when reading). When none fits,
    the extension decides: tab for ``.tsv``, comma otherwise.
    """
    default = "\t" if ".tsv" in path.name.lower() else ","
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            head = stream.read(_SNIFF_BYTES)
    except (pa.ArrowException, OSError):
        return default  # the reader reports the unreadable file, naming it
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines()
    if len(head) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    lines = [line for line in lines[:_SNIFF_LINES] if line.strip()]
    if not lines:
        return default
    fitting = []
    for sep in (default, *(s for s in _SEPARATORS if s != default)):
        counts = {len(row) for row in csv.reader(lines, delimiter=sep)}
        if len(counts) == 1 and counts.pop() > 1:
            fitting.append(sep)
    return fitting[0] if fitting else default


def _refuse_one_merged_column(path: Path, names: list[str]) -> None:
    """A file read as one column whose header holds a separator was read with the wrong one."""
    if len(names) != 1:
        return
    found = [s for s in _SEPARATORS if s in names[0]]
    if found:
        raise InvalidInputError(
            f"{str(path)[:300]!r} was read as one column named {names[0][:60]!r}: its lines do not split evenly "
            f"on any separator; if it is separated by {_SEPARATOR_NAMES[found[0]]}, check that every line has "
            "the same number of fields (quote values that hold the separator)",
            field="source",
        )


def _wider(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if {a, b} == {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.large_string()


def _type_of_text(value: str) -> pa.DataType:
    try:
        int(value)
        return pa.int64()
    except ValueError:
        pass
    try:
        float(value)
        return pa.float64()
    except ValueError:
        return pa.large_string()
