"""MLflow-format models (an ``MLmodel`` folder) through their python_function flavor.

Models whose pyfunc loader is ``mlflow.sklearn`` load without mlflow: the estimator file
named in the ``sklearn`` section is read with skops (only the types skops trusts by
default, unless ``trusted=True``: the trusted-types list in ``MLmodel`` is written by
whoever logged the model, so it is not taken on its word) or with pickle / cloudpickle
(``trusted=True`` only, as every pickle load in Steward). Other loaders need mlflow in
this environment and ``trusted=True`` (MLflow's loaders unpickle).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError, PermissionDeniedError

from ._common import importable
from .sklearn import FLAVOR as SKLEARN

_PICKLES = ("pickle", "cloudpickle")


@dataclass(frozen=True, slots=True)
class _Method:
    """An estimator predicting through the method the pyfunc section names (``predict_fn``)."""

    model: Any  # Any: the estimator
    method: str

    def predict(self, model_input: Any) -> Any:  # Any: frame in, predictions out
        return getattr(self.model, self.method)(model_input)


def _inside(folder: Path, rel: str) -> Path:
    target = (folder / rel).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        raise InvalidInputError(f"MLmodel names a model file {rel[:200]!r} that is not in the model folder", field="MLmodel")
    return target


def _refuse_untrusted(what: str) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"{what}, which can run any code when loaded; pass trusted=True only if you trust where it came from",
        field="trusted",
    )


class MlflowFlavor:
    """Models saved by MLflow; registered from their files, never saved by Steward."""

    name = "mlflow"

    def available(self) -> bool:
        return True

    def handles(self, model: object) -> bool:
        return False

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        if options.get("loader_module") == "mlflow.sklearn":
            return ["scikit-learn", "numpy", "scipy", "skops" if options.get("serialization_format") == "skops" else "cloudpickle"]
        return ["mlflow"]

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON
        raise InvalidInputError(
            "MLflow-format models are saved by mlflow and registered from their files; "
            "log Steward models with another flavor",
            field="flavor",
        )

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: the model
        loader = str(options.get("loader_module", ""))
        method = str(options.get("predict_fn") or "predict")
        if loader == "mlflow.sklearn":
            file = _inside(path, str(options.get("file", "model.pkl")))
            fmt = str(options.get("serialization_format", "pickle"))
            if fmt == "skops":
                estimator = SKLEARN.load(
                    file.parent, {"format": "skops", "file": file.name, "untrusted_types": []}, trusted=trusted
                )
            elif fmt in _PICKLES:
                if not trusted:
                    raise _refuse_untrusted(f"{file.name} is a {fmt} file")
                with open(file, "rb") as handle:
                    if fmt == "cloudpickle" and importable("cloudpickle"):
                        import cloudpickle  # type: ignore[import-untyped]  # no stubs

                        estimator = cloudpickle.load(handle)
                    else:
                        estimator = pickle.load(handle)
            else:
                raise InvalidInputError(f"unknown sklearn serialization format {fmt[:40]!r} in MLmodel", field="MLmodel")
            return estimator if method == "predict" else _Method(estimator, method)
        if not loader:
            raise InvalidInputError("this MLflow model has no python_function flavor; Steward cannot load it", field="MLmodel")
        if not importable("mlflow"):
            raise InvalidInputError(
                f"this MLflow model loads through {loader[:80]!r}, which needs mlflow installed in this environment",
                field="MLmodel",
            )
        if not trusted:
            raise _refuse_untrusted(f"its loader {loader[:80]} unpickles files")
        import mlflow.pyfunc  # optional: only for non-sklearn MLflow models

        return mlflow.pyfunc.load_model(str(path))


FLAVOR = MlflowFlavor()
