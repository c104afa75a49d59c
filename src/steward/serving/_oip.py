"""The Open Inference Protocol (v2) of KServe and Triton: tensors in, tensors out.

A tabular model takes either one tensor per column (name = column, shape ``[n]`` or
``[n, 1]``) or, when every column is numeric, one ``[n, columns]`` tensor in signature
order. Triton's binary tensor extension (``Inference-Header-Content-Length``) is read and
written, so the unmodified ``tritonclient`` works with its defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from steward.errors import InvalidInputError

from ._models import ServedModel
from ._payloads import Outputs, Rows, Schema, dumps

__all__ = ["InferRequest", "decode_infer", "encode_infer", "model_metadata"]

_TO_V2 = {
    "bool": "BOOL", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "float16": "FP16", "float32": "FP32", "float64": "FP64",
}
_FROM_V2 = {v: np.dtype(k) for k, v in _TO_V2.items()}
_OUTPUT = "predict"


def v2_datatype(dtype: str) -> str:
    return _TO_V2.get(dtype, "BYTES")


@dataclass(frozen=True, slots=True)
class InferRequest:
    """A decoded v2 request: the rows, its id, and whether outputs go back as binary."""

    rows: Rows
    id: str | None
    binary_output: bool
    key: str | None


def model_metadata(model: ServedModel, name: str) -> dict[str, Any]:  # Any: JSON
    """``GET /v2/models/{name}``: inputs from the signature, outputs from its output schema."""
    inputs = [{"name": c.name, "datatype": v2_datatype(c.dtype), "shape": [-1]} for c in model.schema.specs]
    outputs = model.schema.signature.outputs
    if outputs.get("kind") == "dataframe":
        outs = [{"name": str(c), "datatype": v2_datatype(str(t)), "shape": [-1]} for c, t in dict(outputs.get("columns", {})).items()]
    else:
        shape = [int(s) for s in outputs.get("shape", [-1])] or [-1]
        outs = [{"name": _OUTPUT, "datatype": v2_datatype(str(outputs.get("dtype", "float64"))), "shape": shape}]
    return {
        "name": name,
        "versions": [str(model.version)],
        "platform": f"steward_{model.predictor.flavor}",
        "inputs": inputs,
        "outputs": outs,
    }


def _tensor(spec: Any, index: int, binary: memoryview, offset: int) -> tuple[str, list[int], np.ndarray, int]:  # Any: JSON
    field = f"inputs[{index}]"
    if not isinstance(spec, dict):
        raise InvalidInputError(f"{field} must be an object with name, shape, datatype and data", field=field)
    name, shape, datatype = spec.get("name"), spec.get("shape"), spec.get("datatype")
    if not isinstance(name, str):
        raise InvalidInputError(f"{field}.name must be a string", field=f"{field}.name")
    if not isinstance(shape, list) or not shape or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise InvalidInputError(f"input {name}: shape must be a list of non-negative integers", field=name)
    if not isinstance(datatype, str):
        raise InvalidInputError(f"input {name}: datatype must be a string", field=name)
    count = math.prod(shape)
    params = spec.get("parameters") or {}
    size = params.get("binary_data_size") if isinstance(params, dict) else None
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise InvalidInputError(f"input {name}: binary_data_size runs past the end of the body", field=name)
        chunk = binary[offset : offset + size]
        offset += size
        if datatype == "BYTES":
            values = _unpack_bytes(chunk, name)
        elif datatype in _FROM_V2:
            dtype = _FROM_V2[datatype]
            if size != count * dtype.itemsize:
                raise InvalidInputError(
                    f"input {name}: {size} bytes do not hold shape {shape} of {datatype}", field=name
                )
            values = np.frombuffer(chunk, dtype=dtype)
        else:
            raise InvalidInputError(f"input {name}: unknown datatype {datatype[:20]}", field=name)
    else:
        data = spec.get("data")
        if not isinstance(data, list):
            raise InvalidInputError(f"input {name}: data must be a list", field=name)
        values = _typed(np.array(data, dtype=object if datatype == "BYTES" else None).reshape(-1), datatype, name)
    if values.size != count:
        raise InvalidInputError(f"input {name}: {values.size} values do not fill shape {shape}", field=name)
    return name, shape, values, offset


def _typed(values: np.ndarray, datatype: str, name: str) -> np.ndarray:
    if datatype == "BYTES":
        return np.array([v.decode() if isinstance(v, bytes) else v for v in values], dtype=object)
    dtype = _FROM_V2.get(datatype)
    if dtype is None:
        raise InvalidInputError(f"input {name}: unknown datatype {datatype[:20]}", field=name)
    kind = values.dtype.kind
    ok = (dtype.kind == "b" and kind == "b") or (dtype.kind in "iu" and kind in "iu") or (dtype.kind == "f" and kind in "iuf")
    if not ok and values.size:
        raise InvalidInputError(f"input {name}: data does not match datatype {datatype}", field=name)
    return values.astype(dtype)


def _unpack_bytes(chunk: memoryview, name: str) -> np.ndarray:
    out: list[str] = []
    i = 0
    while i < len(chunk):
        if i + 4 > len(chunk):
            raise InvalidInputError(f"input {name}: truncated BYTES element", field=name)
        size = int.from_bytes(chunk[i : i + 4], "little")
        out.append(bytes(chunk[i + 4 : i + 4 + size]).decode("utf-8", "replace"))
        i += 4 + size
    return np.array(out, dtype=object)


def decode_infer(body: bytes, header_length: int | None, schema: Schema, sticky_key: str | None) -> InferRequest:
    """Check a v2 inference request against ``schema``.

    Raises:
        InvalidInputError: malformed JSON, unknown or missing inputs, a shape that does not fit
            the data or the model, or a datatype the column does not take (named).
    """
    if header_length is not None and not 0 < header_length <= len(body):
        raise InvalidInputError("Inference-Header-Content-Length is outside the body", field="inference-header-content-length")
    head = body if header_length is None else body[:header_length]
    try:
        doc = orjson.loads(head)
    except orjson.JSONDecodeError:
        raise InvalidInputError("request body is not valid JSON", field="body") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list) or not doc["inputs"]:
        raise InvalidInputError("a v2 request needs a non-empty inputs list", field="inputs")
    binary = memoryview(body)[header_length or len(body) :]
    offset = 0
    tensors: dict[str, tuple[list[int], np.ndarray]] = {}
    for i, spec in enumerate(doc["inputs"]):
        name, shape, values, offset = _tensor(spec, i, binary, offset)
        tensors[name] = (shape, values)
    key: str | None = None
    if sticky_key is not None and sticky_key in tensors and sticky_key not in schema.index:
        _, values = tensors.pop(sticky_key)
        key = str(values[0]) if values.size else None
    rows = _rows(tensors, schema)
    params = doc.get("parameters")
    binary_output = bool(params.get("binary_data_output", False)) if isinstance(params, dict) else False
    for out in doc.get("outputs") or []:
        if isinstance(out, dict) and isinstance(out.get("parameters"), dict) and out["parameters"].get("binary_data"):
            binary_output = True
    rid = doc.get("id")
    return InferRequest(rows, rid if isinstance(rid, str) else None, binary_output, key)


def _rows(tensors: dict[str, tuple[list[int], np.ndarray]], schema: Schema) -> Rows:
    k = len(schema.names)
    if len(tensors) == 1:
        (name, (shape, values)), = tensors.items()
        if name not in schema.index or (len(shape) == 2 and shape[1] == k and k > 1):
            # one [n, columns] tensor, columns in signature order
            if len(shape) != 2 or shape[1] != k:
                raise InvalidInputError(
                    f"input {name}: shape {shape} does not fit the model; send [n, {k}] or one input per column", field=name
                )
            if not schema.numeric:
                raise InvalidInputError(
                    f"input {name}: the model has non-numeric columns; send one input per column", field=name
                )
            matrix = values.reshape(shape).astype(np.float64)
            return schema.from_columns({c: matrix[:, i] for i, c in enumerate(schema.names)}, shape[0])
    n: int | None = None
    columns: dict[str, np.ndarray] = {}
    for name, (shape, values) in tensors.items():
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise InvalidInputError(f"input {name}: shape {shape} must be [n] or [n, 1] for one column", field=name)
        if n is None:
            n = shape[0]
        elif shape[0] != n:
            raise InvalidInputError(f"input {name}: shape {shape} has {shape[0]} rows, other inputs have {n}", field=name)
        columns[name] = values
    assert n is not None
    return schema.from_columns(columns, n)


def encode_infer(
    outputs: Outputs, *, model_name: str, model_version: int, request_id: str | None, binary: bool, extra: dict[str, Any]
) -> tuple[bytes, int | None]:  # Any: JSON parameters
    """The v2 response body, and the JSON header's length when outputs are binary."""
    named = outputs if isinstance(outputs, dict) else {_OUTPUT: outputs}
    tensors: list[dict[str, Any]] = []  # Any: JSON
    blobs: list[bytes] = []
    for name, arr in named.items():
        datatype = _TO_V2.get(str(arr.dtype), "BYTES")
        tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(arr.shape)}  # Any: JSON
        if binary:
            raw = _pack_bytes(arr) if datatype == "BYTES" else np.ascontiguousarray(arr).tobytes()
            tensor["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        else:
            flat = arr.reshape(-1)
            tensor["data"] = flat if datatype != "BYTES" else [str(v) for v in flat.tolist()]
        tensors.append(tensor)
    doc: dict[str, Any] = {"model_name": model_name, "model_version": str(model_version), "outputs": tensors}  # Any: JSON
    if request_id is not None:
        doc["id"] = request_id
    doc["parameters"] = extra
    head = dumps(doc)
    if not binary:
        return head, None
    return head + b"".join(blobs), len(head)


def _pack_bytes(arr: np.ndarray) -> bytes:
    parts: list[bytes] = []
    for value in arr.reshape(-1).tolist():
        raw = str(value).encode()
        parts.append(len(raw).to_bytes(4, "little") + raw)
    return b"".join(parts)
