"""Generic Python models: a :class:`PythonModel` subclass saved by import path plus its
artifacts (files it reads in ``load_context``)."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError

_ARTIFACTS = "artifacts"


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What ``load_context`` receives: local paths of the artifacts, by name."""

    artifacts: dict[str, str] = field(default_factory=dict)


class PythonModel:
    """Base class of generic Python models.

    Subclass it, override :meth:`predict` (and :meth:`load_context` to read files named
    in ``artifacts``), and log an instance with ``run.log_model(model, name=...,
    artifacts={"vocab": "vocab.json"})``. The class is saved by its import path, so it
    must be importable (not defined in ``__main__``) wherever the model is loaded; it is
    built with no arguments.

    Example:
        >>> class Doubler(PythonModel):
        ...     def predict(self, model_input):
        ...         return model_input["x"] * 2
    """

    def load_context(self, context: ModelContext) -> None:
        """Read artifacts; called once after the model is loaded."""

    def predict(self, model_input: Any) -> Any:  # Any: frame in, predictions out
        """Predict on input already validated against the signature."""
        raise NotImplementedError


class PyfuncFlavor:
    """Instances of :class:`PythonModel`."""

    name = "pyfunc"

    def available(self) -> bool:
        return True

    def handles(self, model: object) -> bool:
        return isinstance(model, PythonModel)

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        top = str(options.get("class", "")).split(".")[0]
        return ["numpy", "pandas", *([top] if top and top != "steward" else [])]

    def save(self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None) -> dict[str, Any]:  # Any: JSON
        if not isinstance(model, PythonModel):
            raise InvalidInputError("a pyfunc model must be a steward.pyfunc.PythonModel", field="model")
        cls = type(model)
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            raise InvalidInputError(
                f"{cls.__qualname__} must be defined at the top level of an importable module", field="model"
            )
        names: dict[str, str] = {}
        for key, local in (artifacts or {}).items():
            source = Path(local)
            if not source.exists():
                raise InvalidInputError(f"artifact {key!r}: {local} does not exist", field=f"artifacts.{key}")
            target = path / _ARTIFACTS / key
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir()
                shutil.copy2(source, target / source.name)
                target = target / source.name
            names[key] = target.relative_to(path).as_posix()
        return {"class": f"{cls.__module__}:{cls.__qualname__}", "artifacts": names}

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: the model
        module_name, _, qualname = str(options.get("class", "")).partition(":")
        try:
            obj: Any = importlib.import_module(module_name)  # Any: walked attribute by attribute
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot import the model class {options.get('class')!r}; install the package that defines it",
                field="class",
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, PythonModel)):
            raise InvalidInputError(f"{options.get('class')!r} is not a PythonModel", field="class")
        model = obj()
        artifacts = {k: str(path / v) for k, v in dict(options.get("artifacts", {})).items()}
        model.load_context(ModelContext(artifacts))
        return model


FLAVOR = PyfuncFlavor()
