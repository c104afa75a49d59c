"""MLflow-format models: a folder with an ``MLmodel`` file, read as a Steward model.

A version registered from such a folder (through the MLflow REST API or ``steward import
mlflow``) keeps MLflow's files as they are; its files are pinned like any version's. When
it is loaded, the ``MLmodel`` file stands in for ``steward-model.json``: it names the
flavor options (:func:`mlflow_meta`), the signature (MLflow's column-based signatures
become Steward's, so predictions are checked the same way) and the requirements
(``requirements.txt``).

Nothing here imports mlflow: scikit-learn models are read straight from the
``python_function`` / ``sklearn`` sections (see :mod:`steward.registry.flavors.mlflow`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from steward.errors import InvalidInputError

from .signature import ColumnSpec, Signature

__all__ = ["MLMODEL_FILE", "ModelSource", "mlflow_meta", "mlflow_meta_from_text", "parse_mlmodel", "parse_source"]

MLMODEL_FILE = "MLmodel"
_REQUIREMENTS = "requirements.txt"
_MAX_MLMODEL = 1 << 20  # an MLmodel file is a few kB; refuse parsing anything huge
JSON = dict[str, Any]  # Any: JSON / YAML values

# MLflow's column types (mlflow.types.DataType) as the dtype names Steward's signatures use
_DTYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "string",
    "datetime": "datetime64[ns]",
}


def parse_mlmodel(text: str | bytes) -> JSON:
    """The ``MLmodel`` YAML document as a mapping.

    Raises:
        InvalidInputError: not YAML, not a mapping, too large, or without ``flavors``.
    """
    if len(text) > _MAX_MLMODEL:
        raise InvalidInputError(f"{MLMODEL_FILE} is larger than {_MAX_MLMODEL} bytes", field=MLMODEL_FILE)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{MLMODEL_FILE} is not valid YAML", field=MLMODEL_FILE) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("flavors"), dict) or not doc["flavors"]:
        raise InvalidInputError(f"{MLMODEL_FILE} names no flavors; it is not an MLflow model", field=MLMODEL_FILE)
    return doc


def _signature(raw: object) -> Signature | None:
    """MLflow's column-based signature as Steward's (None for tensor-based or absent ones)."""
    if not isinstance(raw, Mapping) or not raw.get("inputs"):
        return None
    try:
        inputs = json.loads(raw["inputs"]) if isinstance(raw["inputs"], str) else raw["inputs"]
        outputs = json.loads(raw["outputs"]) if isinstance(raw.get("outputs"), str) else raw.get("outputs")
    except ValueError:
        return None
    if not isinstance(inputs, list) or not inputs:
        return None
    columns: list[ColumnSpec] = []
    for spec in inputs:
        # a tensor spec or an unnamed column: Steward cannot check it by name, so none is kept
        if not isinstance(spec, Mapping) or "name" not in spec or spec.get("type") not in _DTYPES:
            return None
        columns.append(ColumnSpec(str(spec["name"]), _DTYPES[str(spec["type"])], not bool(spec.get("required", True))))
    return Signature(tuple(columns), _outputs(outputs), "dataframe")


def _outputs(raw: object) -> JSON:
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], Mapping) and raw[0].get("type") == "tensor":
        tensor = raw[0].get("tensor-spec") or {}
        return {"kind": "ndarray", "dtype": str(tensor.get("dtype", "")), "shape": list(tensor.get("shape", [-1]))}
    return {"kind": "mlflow", "schema": raw} if raw else {}


def _options(doc: JSON) -> JSON:
    """What the ``mlflow`` flavor needs to load the model: the pyfunc loader and, for
    scikit-learn, the model file and its serialization format."""
    flavors: JSON = doc["flavors"]
    found_pyfunc, found_sklearn = flavors.get("python_function"), flavors.get("sklearn")
    pyfunc: JSON = found_pyfunc if isinstance(found_pyfunc, dict) else {}
    sklearn: JSON = found_sklearn if isinstance(found_sklearn, dict) else {}
    options: JSON = {
        "flavors": sorted(str(k) for k in flavors),
        "loader_module": str(pyfunc.get("loader_module") or ""),
        "predict_fn": str(pyfunc.get("predict_fn") or "predict"),
    }
    if options["loader_module"] == "mlflow.sklearn" or (sklearn and not options["loader_module"]):
        options["loader_module"] = "mlflow.sklearn"
        options["file"] = str(sklearn.get("pickled_model") or pyfunc.get("model_path") or "model.pkl")
        options["serialization_format"] = str(sklearn.get("serialization_format") or "pickle")
        options["sklearn_version"] = str(sklearn.get("sklearn_version") or "")
        trusted_types = sklearn.get("skops_trusted_types")
        options["skops_trusted_types"] = [str(t) for t in trusted_types] if isinstance(trusted_types, list) else []
    return options


def mlflow_meta_from_text(mlmodel: str | bytes, requirements: str | bytes | None) -> JSON:
    """What ``steward-model.json`` would hold for an MLflow model: flavor ``mlflow``, its
    options, the signature and the requirements.

    Raises:
        InvalidInputError: the ``MLmodel`` file is not an MLflow model description.
    """
    doc = parse_mlmodel(mlmodel)
    signature = _signature(doc.get("signature"))
    text = requirements.decode("utf-8", "replace") if isinstance(requirements, bytes) else (requirements or "")
    pins = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))]
    return {
        "flavor": "mlflow",
        "data": ".",
        "options": _options(doc),
        "signature": None if signature is None else signature.to_dict(),
        "requirements": pins,
        "mlflow_version": str(doc.get("mlflow_version") or ""),
    }


def mlflow_meta(folder: Path) -> JSON:
    """:func:`mlflow_meta_from_text` of the MLflow model in ``folder``."""
    requirements = folder / _REQUIREMENTS
    return mlflow_meta_from_text(
        (folder / MLMODEL_FILE).read_bytes(), requirements.read_bytes() if requirements.is_file() else None
    )


_RUN_ID = re.compile(r"[0-9a-f]{32}")
_LOGGED_MODEL = re.compile(r"m-[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where an MLflow model version's files are: a run's artifact folder (``run_id`` and
    ``path``), or an MLflow 3 logged model (``logged_model_id``)."""

    run_id: str = ""
    path: str = ""
    logged_model_id: str = ""
    experiment_id: str = ""  # named by an mlflow-artifacts location; checked against the run's


def parse_source(source: object) -> ModelSource:
    """The run folder or logged model an MLflow ``source`` names.

    Accepted: ``runs:/<run_id>/<path>``, ``mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path>``
    (what the client sends for a run's model; a ``//host`` part is ignored), and
    ``models:/m-<id>`` (a logged model). The authorisation check and the route both read
    a source with this one function, so they can never disagree on the run it names.

    Raises:
        InvalidInputError: any other form, or a path that leaves the run's folder.
    """
    if not isinstance(source, str) or not source or len(source) > 2000:
        raise InvalidInputError("source must be a non-empty string of at most 2000 characters", field="source")
    scheme, sep, rest = source.partition(":")
    if sep and scheme == "runs":
        parts = rest.lstrip("/").split("/", 1)
        if _RUN_ID.fullmatch(parts[0]):
            return ModelSource(run_id=parts[0], path=_clean(parts[1] if len(parts) == 2 else ""))
    elif sep and scheme == "mlflow-artifacts":
        body = rest[2:].split("/", 1)[1] if rest.startswith("//") and "/" in rest[2:] else rest.lstrip("/")
        parts = body.split("/", 3)
        if len(parts) >= 3 and parts[0].isdigit() and _RUN_ID.fullmatch(parts[1]) and parts[2] == "artifacts":
            return ModelSource(run_id=parts[1], path=_clean(parts[3] if len(parts) == 4 else ""), experiment_id=parts[0])
    elif sep and scheme == "models":
        model_id = rest.lstrip("/").rstrip("/")
        if _LOGGED_MODEL.fullmatch(model_id):
            return ModelSource(logged_model_id=model_id)
    raise InvalidInputError(
        f"source {source[:120]!r} is not one Steward can register; use runs:/<run_id>/<path>, "
        "mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path> or models:/m-<logged model id>",
        field="source",
    )


def _clean(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInputError("source path may not contain '..'", field="source")
    if not parts:
        raise InvalidInputError("source names a run but no model folder inside it", field="source")
    return "/".join(parts)
