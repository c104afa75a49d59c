"""Delayed ground truth: a label file (CSV, Parquet or JSON records) read into label rows.

A file names each prediction by request id (the ``--key`` column) and optionally by
``row`` within the request; without ``row`` a label applies to every row of its request.
Within one file the last label of a prediction wins, as the latest ingest wins over
earlier ones.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from steward.errors import InvalidInputError, NotFoundError

from ._ports import LabelRow

__all__ = ["LabelReport", "labels_from_records", "labels_from_table", "labels_table", "read_label_bytes", "read_label_file"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_MAX_ID = 128


@dataclass(frozen=True, slots=True)
class LabelReport:
    """What one ingest did.

    Attributes:
        deployment: whose predictions were labelled.
        rows: label rows in the file.
        attached: labels stored (new or replacing an earlier one).
        unknown: labels whose request (or row) is not in the log; not stored.
        missing: rows without a label value; skipped.
        unknown_examples: a few of the unknown request ids.
    """

    deployment: str
    rows: int
    attached: int
    unknown: int
    missing: int
    unknown_examples: Sequence[str] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "deployment": self.deployment, "rows": self.rows, "attached": self.attached, "unknown": self.unknown,
            "missing": self.missing, "unknown_examples": list(self.unknown_examples),
        }


def read_label_file(path: str | Path, *, key: str = "request_id") -> pa.Table:
    """The table in a CSV or Parquet label file.

    Raises:
        NotFoundError: no such file.
        InvalidInputError: another extension, or a file the reader cannot parse.
    """
    p = Path(path)
    kind = _FORMATS.get(p.suffix.lower())
    if kind is None:
        raise InvalidInputError(f"label file {p.name!r} must be .csv or .parquet", field="file")
    if not p.is_file():
        raise NotFoundError(f"label file {str(p)!r} not found", field="file")
    return read_label_bytes(p.read_bytes(), kind, name=p.name, key=key)


def read_label_bytes(data: bytes, kind: str, *, name: str = "the label file", key: str = "request_id") -> pa.Table:
    """The table in CSV or Parquet bytes.

    Raises:
        InvalidInputError: bytes the reader cannot parse (the message says why).
    """
    try:
        if kind == "csv":
            # ids stay text even when they look like numbers ("007" must not become 7)
            convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types={key: pa.string()})
            return pacsv.read_csv(io.BytesIO(data), convert_options=convert)
        if kind == "parquet":
            return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InvalidInputError(f"{name} is not a readable {kind.upper()} file: {first}", field="file") from exc
    raise InvalidInputError(f"unknown label format {kind!r}: csv or parquet", field="format")


def labels_from_table(table: pa.Table, *, key: str = "request_id", label_column: str = "label") -> tuple[list[LabelRow], int]:
    """Label rows from a table with the key column, the label column and optionally ``row``.

    Returns:
        The label rows (the last per prediction) and how many rows had no label value.

    Raises:
        InvalidInputError: a missing column, an empty file, an empty request id or a bad row number (named).
    """
    columns = table.column_names
    for needed, what in ((key, "--key"), (label_column, "--label-column")):
        if needed not in columns:
            shown = ", ".join(columns[:10]) + (" ..." if len(columns) > 10 else "")
            raise InvalidInputError(f"the label file has no column {needed!r} ({what}); its columns: {shown}", field=what.lstrip("-"))
    if table.num_rows == 0:
        raise InvalidInputError("the label file has no rows", field="file")
    ids = table.column(key).to_pylist()
    rows = table.column("row").to_pylist() if "row" in columns and key != "row" else [None] * table.num_rows
    labels = table.column(label_column).to_pylist()
    return labels_from_records(ids, rows, labels)


def labels_table(request_ids: Sequence[str], rows: Sequence[int | None], labels: Sequence[object]) -> pa.Table:
    """A label table (``request_id``, ``row``, ``label``) from parallel sequences, as a file would hold it."""
    values = [_json_value(v) for v in labels]
    try:
        label = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds (numbers and text): JSON keeps each as it is
        label = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table({"request_id": pa.array(request_ids, pa.string()), "row": pa.array(rows, pa.int64()), "label": label})


def labels_from_records(ids: Sequence[object], rows: Sequence[object], labels: Sequence[object]) -> tuple[list[LabelRow], int]:
    """Label rows from parallel sequences (see :func:`labels_from_table`)."""
    found: dict[tuple[str, int], LabelRow] = {}
    missing = 0
    for i, (rid, row, label) in enumerate(zip(ids, rows, labels, strict=True), start=1):
        if rid is None or (isinstance(rid, float) and math.isnan(rid)) or str(rid).strip() == "":
            raise InvalidInputError(f"label row {i} has no request id", field="request_id")
        request_id = str(rid).strip()
        if len(request_id) > _MAX_ID:
            raise InvalidInputError(f"label row {i}: a request id is at most {_MAX_ID} characters", field="request_id")
        row_number = _row_number(row, i)
        value = _json_value(label)
        if value is None:
            missing += 1
            continue
        found[(request_id, row_number)] = LabelRow(request_id, row_number, value, 0)
    return list(found.values()), missing


def _row_number(row: object, line: int) -> int:
    if row is None or (isinstance(row, float) and math.isnan(row)):
        return -1
    if isinstance(row, bool):
        raise InvalidInputError(f"label row {line}: row must be a whole number >= 0", field="row")
    try:
        number = int(row) if not isinstance(row, float) or row.is_integer() else -2  # type: ignore[call-overload]
    except (TypeError, ValueError):
        number = -2
    if number < 0 or number > 2**31 - 1:
        raise InvalidInputError(f"label row {line}: row must be a whole number >= 0", field="row")
    return number


def _json_value(value: object) -> object:
    """A label as JSON stores it; None for a missing one (null or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping | list):
        return value
    return str(value)
