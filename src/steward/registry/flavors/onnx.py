"""ONNX flavor: an ``onnx.ModelProto`` (or a scikit-learn model converted with skl2onnx),
run with onnxruntime."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from steward.errors import InvalidInputError

from ._common import importable

_FILE = "model.onnx"
_TENSOR_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class _OnnxModel:
    """An onnxruntime session that takes a frame: one input gets the whole matrix,
    several inputs get one column each by name."""

    def __init__(self, session: Any) -> None:  # Any: onnxruntime.InferenceSession
        self.session = session
        self.inputs = session.get_inputs()

    def predict(self, model_input: Any) -> Any:  # Any: frame/array in, array out
        if len(self.inputs) == 1:
            spec = self.inputs[0]
            dtype: Any = _TENSOR_TYPES.get(spec.type, np.float32)  # Any: a numpy scalar type
            arr = np.asarray(model_input).astype(dtype)
            feeds = {spec.name: arr}
        else:
            feeds = {
                s.name: np.asarray(model_input[s.name]).astype(_TENSOR_TYPES.get(s.type, np.float32)).reshape(-1, 1)
                for s in self.inputs
            }
        return self.session.run(None, feeds)[0]


class OnnxFlavor:
    """ONNX graphs; scikit-learn models are converted when logged with ``flavor="onnx"``."""

    name = "onnx"

    def available(self) -> bool:
        return importable("onnx") and importable("onnxruntime")

    def handles(self, model: object) -> bool:
        return type(model).__module__.startswith("onnx") and type(model).__name__ == "ModelProto"

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        return ["onnx", "onnxruntime", "numpy"]

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON; artifacts only matter to pyfunc
        import onnx

        converted_from = None
        proto = model
        if not isinstance(proto, onnx.ModelProto):
            proto, converted_from = _convert(model, example), f"{type(model).__module__}.{type(model).__name__}"
        onnx.save_model(proto, str(path / _FILE))
        return {"file": _FILE, "converted_from": converted_from}

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: model
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path / _FILE), providers=["CPUExecutionProvider"])
        return _OnnxModel(session)


def _convert(model: object, example: Any) -> Any:  # Any: estimator / frame in, ModelProto out
    if not importable("skl2onnx"):
        raise InvalidInputError("converting to ONNX needs skl2onnx; install steward[onnx]", field="flavor")
    if example is None:
        raise InvalidInputError("converting to ONNX needs an input_example", field="input_example")
    from skl2onnx import to_onnx
    from sklearn.base import is_classifier

    sample = np.asarray(example, dtype=np.float32)[:1]
    # zipmap turns class probabilities into a list of dicts; plain arrays are what we serve
    options = {id(model): {"zipmap": False}} if is_classifier(model) else None
    return to_onnx(model, sample, options=options, target_opset=None)


FLAVOR = OnnxFlavor()
