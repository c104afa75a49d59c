"""Model signatures: the input columns (name, dtype, nullability) and the output schema,
inferred from an input example and enforced on every ``predict``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from steward.errors import InvalidInputError

__all__ = ["ColumnSpec", "Signature", "as_frame", "describe_output", "infer_signature"]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One input column as the model saw it."""

    name: str
    dtype: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class Signature:
    """What a model takes and gives.

    ``input_kind`` is ``"dataframe"`` (columns by name) or ``"ndarray"`` (a 2-D array whose
    columns are named ``"0"``, ``"1"``, ...); the predictor hands the model the same kind.
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: dict[str, Any]  # Any: JSON description of the prediction (kind, dtype, shape)
    input_kind: str = "dataframe"

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {
            "input_kind": self.input_kind,
            "inputs": [{"name": c.name, "dtype": c.dtype, "nullable": c.nullable} for c in self.inputs],
            "outputs": self.outputs,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:  # Any: JSON
        return cls(
            tuple(ColumnSpec(str(c["name"]), str(c["dtype"]), bool(c["nullable"])) for c in data.get("inputs", [])),
            dict(data.get("outputs", {})),
            str(data.get("input_kind", "dataframe")),
        )

    def validate(self, data: Any) -> Any:  # Any: a pandas DataFrame or numpy array
        """Check ``data`` against the signature and return it in the form the model takes.

        Integer columns are accepted where floats are expected (widened); other dtype
        differences, missing columns and extra columns are refused.

        Raises:
            InvalidInputError: naming every missing, extra or wrongly typed column.
        """
        frame = as_frame(data, field="model_input")
        expected = [c.name for c in self.inputs]
        missing = [n for n in expected if n not in frame.columns]
        extra = [str(n) for n in frame.columns if str(n) not in expected]
        problems: list[str] = []
        if missing:
            problems.append("missing columns: " + ", ".join(missing))
        if extra:
            problems.append("unexpected columns: " + ", ".join(extra))
        wrong: list[str] = []
        casts: dict[str, str] = {}
        for spec in self.inputs:
            if spec.name not in frame.columns:
                continue
            got = _dtype_name(frame[spec.name].dtype)
            verdict = _compatible(spec.dtype, got)
            if verdict is None:
                wrong.append(f"{spec.name} (expected {spec.dtype}, got {got})")
            elif verdict:
                casts[spec.name] = spec.dtype
        if wrong:
            problems.append("wrong dtypes: " + ", ".join(wrong))
        if problems:
            first = (missing or extra or [wrong[0].split(" ")[0]])[0]
            raise InvalidInputError("input does not match the model signature: " + "; ".join(problems), field=first)
        frame = frame[expected]
        if casts:
            frame = frame.astype(casts)
        if self.input_kind == "ndarray":
            return frame.to_numpy()
        return frame


def as_frame(data: Any, *, field: str) -> Any:  # Any: pandas objects, imported lazily below
    """A DataFrame view of a DataFrame, a 2-D array or a list of row dicts."""
    import pandas as pd  # pandas is an optional extra; only models need it

    if isinstance(data, pd.DataFrame):
        frame = data.copy(deep=False)
        frame.columns = [str(c) for c in frame.columns]
        return frame
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        if data.ndim != 2:
            raise InvalidInputError(f"expected a 2-D array, got {data.ndim} dimensions", field=field)
        return pd.DataFrame(data, columns=[str(i) for i in range(data.shape[1])])
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(data)
    raise InvalidInputError(
        f"expected a pandas DataFrame, a 2-D numpy array or a list of row dicts, got {type(data).__name__}",
        field=field,
    )


def infer_signature(example: Any, prediction: Any) -> Signature:  # Any: DataFrame / array
    """Infer the signature from an input example and the model's prediction on it.

    Raises:
        InvalidInputError: the example is not tabular or is empty.
    """
    kind = "ndarray" if isinstance(example, np.ndarray) else "dataframe"
    frame = as_frame(example, field="input_example")
    if len(frame) == 0 or len(frame.columns) == 0:
        raise InvalidInputError("input_example must hold at least one row and one column", field="input_example")
    inputs = tuple(
        ColumnSpec(str(c), _dtype_name(frame[c].dtype), bool(frame[c].isna().any())) for c in frame.columns
    )
    return Signature(inputs, describe_output(prediction), kind)


def describe_output(prediction: Any) -> dict[str, Any]:  # Any: model output / JSON
    """JSON description of a prediction: kind, dtype(s) and shape without the row count."""
    import pandas as pd

    if isinstance(prediction, pd.DataFrame):
        return {"kind": "dataframe", "columns": {str(c): _dtype_name(t) for c, t in prediction.dtypes.items()}}
    if isinstance(prediction, pd.Series):
        return {"kind": "series", "dtype": _dtype_name(prediction.dtype)}
    arr = np.asarray(prediction)
    return {"kind": "ndarray", "dtype": _dtype_name(arr.dtype), "shape": [-1, *arr.shape[1:]]}


def _dtype_name(dtype: Any) -> str:  # Any: numpy or pandas extension dtype
    kind = getattr(dtype, "kind", "O")
    if kind in "OUS" or str(dtype) in ("str", "string"):
        # pandas 3 spells text columns "str", older pandas "object": one name for both
        return "string"
    return str(dtype)


_INT = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_FLOAT = {"float16", "float32", "float64"}


def _compatible(expected: str, got: str) -> bool | None:
    """None: refused; False: accepted as is; True: accepted after casting to ``expected``."""
    if expected == got:
        return False
    if expected in _FLOAT and (got in _INT or got in _FLOAT or got == "bool"):
        return True
    if expected in _INT and got in _INT:
        return True
    return None
