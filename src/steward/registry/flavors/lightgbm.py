"""LightGBM flavor: the library's own text model format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from steward.errors import InvalidInputError

from ._common import importable

_FILE = "model.txt"


class _LightGBMModel:
    """A booster read from text, predicting like the object that was saved."""

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:  # Any: lightgbm.Booster / labels
        self.booster = booster
        self.classes = None if classes is None else np.asarray(classes)

    def predict(self, model_input: Any) -> Any:  # Any: frame in, array out
        raw = self.booster.predict(model_input)
        if self.classes is None:
            return raw
        # a classifier's booster gives probabilities; map them back to the labels
        if raw.ndim == 1:
            return self.classes[(raw > 0.5).astype(int)]
        return self.classes[np.argmax(raw, axis=1)]

    def predict_proba(self, model_input: Any) -> Any:  # Any: frame in, array out
        raw = self.booster.predict(model_input)
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw


class LightGBMFlavor:
    """``lightgbm.Booster`` and its scikit-learn wrappers (``LGBMClassifier``, ...)."""

    name = "lightgbm"

    def available(self) -> bool:
        return importable("lightgbm")

    def handles(self, model: object) -> bool:
        return type(model).__module__.startswith("lightgbm")

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        return ["lightgbm", "numpy", "scipy"]

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON; artifacts only matter to pyfunc
        import lightgbm

        classes: list[Any] | None = None
        if isinstance(model, lightgbm.LGBMModel):
            booster = model.booster_
            if isinstance(model, lightgbm.LGBMClassifier):
                classes = np.asarray(model.classes_).tolist()
        elif isinstance(model, lightgbm.Booster):
            booster = model
        else:
            raise InvalidInputError(f"not a LightGBM model: {type(model).__name__}", field="model")
        booster.save_model(str(path / _FILE))
        return {"file": _FILE, "class": type(model).__name__, "classes": classes}

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: model
        import lightgbm

        booster = lightgbm.Booster(model_file=str(path / _FILE))
        classes = options.get("classes")
        return _LightGBMModel(booster, list(classes) if classes is not None else None)


FLAVOR = LightGBMFlavor()
