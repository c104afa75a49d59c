"""XGBoost flavor: the library's own JSON model format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError

from ._common import importable

_FILE = "model.json"


class _BoosterModel:
    """A raw ``xgboost.Booster`` made to take frames."""

    def __init__(self, booster: Any) -> None:  # Any: xgboost.Booster
        self.booster = booster

    def predict(self, model_input: Any) -> Any:  # Any: frame in, array out
        import xgboost

        return self.booster.predict(xgboost.DMatrix(model_input))


class XGBoostFlavor:
    """``xgboost.Booster`` and its scikit-learn wrappers (``XGBClassifier``, ...)."""

    name = "xgboost"

    def available(self) -> bool:
        return importable("xgboost")

    def handles(self, model: object) -> bool:
        return type(model).__module__.startswith("xgboost")

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        return ["xgboost", "numpy", "scipy", "scikit-learn"]

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON; artifacts only matter to pyfunc
        import xgboost

        if not isinstance(model, (xgboost.Booster, xgboost.XGBModel)):
            raise InvalidInputError(f"not an XGBoost model: {type(model).__name__}", field="model")
        model.save_model(str(path / _FILE))
        return {"file": _FILE, "class": type(model).__name__}

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: model
        import xgboost

        cls_name = str(options.get("class", "Booster"))
        if cls_name == "Booster":
            booster = xgboost.Booster()
            booster.load_model(str(path / _FILE))
            return _BoosterModel(booster)
        cls = getattr(xgboost, cls_name, None)
        if not (isinstance(cls, type) and issubclass(cls, xgboost.XGBModel)):
            raise InvalidInputError(f"unknown XGBoost class {cls_name!r}", field="class")
        model = cls()
        model.load_model(str(path / _FILE))
        return model


FLAVOR = XGBoostFlavor()
