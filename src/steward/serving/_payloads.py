"""Request rows checked against a model's signature straight into numpy, and predictions out.

No pandas frame is built per request: JSON lists become numpy arrays (one 2-D array when
every column is numeric), checked column by column only when the quick check fails, so a
422 names the first offending field. The micro-batcher concatenates :class:`Rows` and
builds the model's input (a frame or an array) once per batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from steward.errors import InvalidInputError
from steward.registry import ColumnSpec, Signature

__all__ = ["Outputs", "Rows", "Schema", "concat_rows", "outputs_of", "slice_outputs"]

_FLOATS = frozenset({"float16", "float32", "float64"})
_INTS = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})

# A model's answer for a batch: one array (rows first), or named columns (a DataFrame's).
Outputs = np.ndarray | dict[str, np.ndarray]


def kind_of(dtype: str) -> str:
    """``float``, ``int``, ``bool`` or ``other`` (strings, dates: kept as Python objects)."""
    if dtype in _FLOATS:
        return "float"
    if dtype in _INTS:
        return "int"
    if dtype == "bool":
        return "bool"
    return "other"


@dataclass(frozen=True, slots=True)
class Rows:
    """Checked input rows: a 2-D ``matrix`` in signature column order when every column is
    numeric, else one array per column (``columns``)."""

    n: int
    matrix: np.ndarray | None = None
    columns: dict[str, np.ndarray] | None = None

    def column(self, index: int, name: str) -> np.ndarray:
        if self.matrix is not None:
            return self.matrix[:, index]
        assert self.columns is not None
        return self.columns[name]


def concat_rows(parts: Sequence[Rows]) -> Rows:
    """One :class:`Rows` of every row of ``parts`` (all of the same schema), in order."""
    if len(parts) == 1:
        return parts[0]
    n = sum(p.n for p in parts)
    if parts[0].matrix is not None:
        return Rows(n, matrix=np.concatenate([p.matrix for p in parts if p.matrix is not None]))
    first = parts[0].columns or {}
    return Rows(n, columns={k: np.concatenate([(p.columns or {})[k] for p in parts]) for k in first})


class Schema:
    """The input side of a signature, compiled for quick checks."""

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.specs: tuple[ColumnSpec, ...] = signature.inputs
        self.names: tuple[str, ...] = tuple(c.name for c in signature.inputs)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.kinds = tuple(kind_of(c.dtype) for c in signature.inputs)
        # every column numeric: requests become one float64 matrix (ints are checked integral)
        self.numeric = all(k in ("float", "int") for k in self.kinds)
        self.all_float = all(k == "float" for k in self.kinds)
        self.dataframe = signature.input_kind != "ndarray"
        self._casts = {c.name: c.dtype for c in signature.inputs if c.dtype != "float64"}

    # -- decoding -----------------------------------------------------------------------

    def from_records(self, records: Sequence[Any], ignore: frozenset[str] = frozenset()) -> Rows:  # Any: JSON
        """Rows from ``[{"col": value, ...}, ...]``.

        Raises:
            InvalidInputError: a row is not an object, a column is missing or unexpected, or a
                value has the wrong type (each names the column).
        """
        names = self.names
        k = len(names)
        try:
            table = [[r[c] for c in names] for r in records]
            sizes_ok = all(len(r) == k for r in records) if not ignore else False
        except KeyError as exc:
            raise InvalidInputError(f"missing column {exc.args[0]!s}", field=str(exc.args[0])) from None
        except TypeError:
            bad = next(i for i, r in enumerate(records) if not isinstance(r, dict))
            raise InvalidInputError(f"row {bad} must be an object of column values", field=f"records[{bad}]") from None
        if not sizes_ok:
            allowed = set(names) | ignore
            for r in records:
                extra = [str(c) for c in r if c not in allowed]
                if extra:
                    raise InvalidInputError(f"unexpected column {extra[0]}", field=extra[0])
        return self._from_table(table)

    def from_split(self, columns: Any, data: Any, ignore: frozenset[str] = frozenset()) -> Rows:  # Any: JSON
        """Rows from ``{"columns": [...], "data": [[...], ...]}`` (columns in any order)."""
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InvalidInputError("columns must be a list of column names", field="columns")
        if not isinstance(data, list):
            raise InvalidInputError("data must be a list of rows", field="data")
        missing = [c for c in self.names if c not in columns]
        if missing:
            raise InvalidInputError(f"missing column {missing[0]}", field=missing[0])
        extra = [c for c in columns if c not in self.index and c not in ignore]
        if extra:
            raise InvalidInputError(f"unexpected column {extra[0]}", field=extra[0])
        for i, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise InvalidInputError(f"row {i} must be a list of {len(columns)} values", field=f"data[{i}]")
        if list(columns) == list(self.names):
            return self._from_table(data)
        order = [columns.index(c) for c in self.names]
        return self._from_table([[row[j] for j in order] for row in data])

    def from_instances(self, instances: Any, ignore: frozenset[str] = frozenset()) -> Rows:  # Any: JSON
        """Rows from ``[{...}, ...]`` (records) or ``[[...], ...]`` (values in signature order)."""
        if not isinstance(instances, list) or not instances:
            raise InvalidInputError("instances must be a non-empty list of rows", field="instances")
        if isinstance(instances[0], dict):
            return self.from_records(instances, ignore)
        k = len(self.names)
        for i, row in enumerate(instances):
            if not isinstance(row, list) or len(row) != k:
                raise InvalidInputError(f"instance {i} must be a list of {k} values in signature order", field=f"instances[{i}]")
        return self._from_table(instances)

    def from_columns(self, columns: Mapping[str, Any], n: int) -> Rows:  # Any: arrays or lists of values
        """Rows from named columns of ``n`` values each (Arrow, v2 tensors); types checked."""
        missing = [c for c in self.names if c not in columns]
        if missing:
            raise InvalidInputError(f"missing column {missing[0]}", field=missing[0])
        extra = [c for c in columns if c not in self.index]
        if extra:
            raise InvalidInputError(f"unexpected column {extra[0]}", field=extra[0])
        checked = {spec.name: self._column(spec, kind, columns[spec.name]) for spec, kind in zip(self.specs, self.kinds, strict=True)}
        for name, col in checked.items():
            if len(col) != n:
                raise InvalidInputError(f"column {name} has {len(col)} values, expected {n}", field=name)
        if self.numeric:
            matrix = np.empty((n, len(self.names)), dtype=np.float64)
            for i, name in enumerate(self.names):
                matrix[:, i] = checked[name]
            return Rows(n, matrix=matrix)
        return Rows(n, columns=checked)

    def _from_table(self, table: list[Any]) -> Rows:  # Any: JSON rows in signature order
        n = len(table)
        if n == 0:
            raise InvalidInputError("the request holds no rows", field="data")
        if self.numeric:
            quick = np.array(table)
            # numbers only: JSON floats, ints (and bools) give a numeric 2-D array at once;
            # strings or nulls fall through to the column-by-column check that names them
            if quick.dtype.kind in "fiu" and quick.shape == (n, len(self.names)):
                if not self.all_float and quick.dtype.kind == "f":
                    self._check_integral(quick)
                return Rows(n, matrix=quick.astype(np.float64, copy=False))
        by_column = {name: [row[i] for row in table] for i, name in enumerate(self.names)}
        return self.from_columns(by_column, n)

    def _check_integral(self, matrix: np.ndarray) -> None:
        for i, kind in enumerate(self.kinds):
            if kind == "int":
                col = matrix[:, i]
                if not np.all(np.isfinite(col)) or not np.all(col == np.floor(col)):
                    name = self.names[i]
                    raise InvalidInputError(f"column {name} expects {self.specs[i].dtype}, got a fractional number", field=name)

    def _column(self, spec: ColumnSpec, kind: str, values: Any) -> np.ndarray:  # Any: list or array
        arr = values if isinstance(values, np.ndarray) else np.array(values if isinstance(values, list) else list(values))
        if arr.ndim != 1:
            raise InvalidInputError(f"column {spec.name} expects one {spec.dtype} value per row", field=spec.name)
        got = arr.dtype.kind
        if got == "O" and kind != "other":
            # nulls (None) among numbers: NaN for a nullable float column, else refused
            nulls = np.array([v is None for v in arr], dtype=bool)
            if nulls.any() and not (spec.nullable and kind == "float"):
                raise InvalidInputError(f"column {spec.name} holds nulls but is not nullable", field=spec.name)
            rest = arr[~nulls]
            bad = next((v for v in rest if isinstance(v, bool) or not isinstance(v, (int, float))), None)
            if bad is not None or (kind == "bool" and len(rest)):
                raise InvalidInputError(f"column {spec.name} expects {spec.dtype}, got {type(bad).__name__}", field=spec.name)
            out = np.full(len(arr), np.nan)
            out[~nulls] = rest.astype(np.float64)
            return out
        if kind == "float" and got in "fiub":
            return arr.astype(np.float64, copy=False)
        if kind == "int" and got in "iu":
            return arr.astype(np.float64 if self.numeric else spec.dtype, copy=False)
        if kind == "int" and got == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)) and values_are_ints(values):
            return arr.astype(np.float64 if self.numeric else spec.dtype)
        if kind == "bool" and got == "b":
            return arr
        if kind == "other":
            if got in "US":
                return arr.astype(object)
            if got == "O":
                bad = next((v for v in arr if v is not None and not isinstance(v, str)), None)
                if bad is None:
                    return arr
                raise InvalidInputError(f"column {spec.name} expects {spec.dtype}, got {type(bad).__name__}", field=spec.name)
        found = {"U": "string", "S": "bytes", "b": "bool", "f": "float", "i": "int", "u": "int"}.get(got, str(arr.dtype))
        raise InvalidInputError(f"column {spec.name} expects {spec.dtype}, got {found}", field=spec.name)

    # -- to the model ---------------------------------------------------------------------

    def model_input(self, rows: Rows) -> Any:  # Any: what the flavor's predict takes
        """The batch in the form the model was trained on: a DataFrame or a 2-D array."""
        if not self.dataframe:
            if rows.matrix is not None:
                dtype = self.specs[0].dtype if len({c.dtype for c in self.specs}) == 1 else "float64"
                return rows.matrix.astype(dtype, copy=False)
            assert rows.columns is not None
            return np.column_stack([rows.columns[n] for n in self.names])
        import pandas as pd  # once per batch, never per request

        if rows.matrix is not None:
            frame = pd.DataFrame(rows.matrix, columns=list(self.names), copy=False)
            return frame.astype(self._casts) if self._casts else frame
        assert rows.columns is not None
        frame = pd.DataFrame(rows.columns, copy=False)
        casts = {c.name: c.dtype for c, k in zip(self.specs, self.kinds, strict=True) if k in ("float", "int", "bool")}
        return frame.astype(casts)


def values_are_ints(values: Any) -> bool:  # Any: list or array
    """True when a list holds no Python floats (1.0 is a float; Arrow/v2 arrays are typed)."""
    return isinstance(values, np.ndarray) or not any(isinstance(v, float) for v in values)


def outputs_of(prediction: Any, n: int) -> Outputs:  # Any: model output
    """A model's answer as rows-first numpy (or named columns for a DataFrame).

    Raises:
        InvalidInputError: the model returned a different number of rows than it was given.
    """
    columns = getattr(prediction, "columns", None)
    if columns is not None and hasattr(prediction, "to_numpy"):
        out: Outputs = {str(c): prediction[c].to_numpy() for c in columns}
        got = len(prediction)
    else:
        arr = prediction.to_numpy() if hasattr(prediction, "to_numpy") else np.asarray(prediction)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        out, got = arr, len(arr)
    if got != n:
        raise InvalidInputError(f"the model returned {got} predictions for {n} rows", field="model")
    return out


def slice_outputs(outputs: Outputs, start: int, stop: int) -> Outputs:
    if isinstance(outputs, dict):
        return {k: v[start:stop] for k, v in outputs.items()}
    return outputs[start:stop]


def predictions_json(outputs: Outputs) -> Any:  # Any: a JSON list, or a numeric array orjson writes as one
    """One JSON value per row: a scalar, a list, or an object for named columns."""
    if isinstance(outputs, dict):
        names = list(outputs)
        cols = [v.tolist() for v in outputs.values()]
        return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]
    if outputs.dtype.kind in "fiub":
        return np.ascontiguousarray(outputs)
    return outputs.tolist()


def dumps(document: Any) -> bytes:  # Any: JSON with numpy arrays inside
    """JSON bytes; numeric numpy arrays are written without a Python list in between."""
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY, default=_fallback)


def _fallback(value: Any) -> Any:  # Any: what orjson cannot write itself
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
