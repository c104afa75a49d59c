"""Model flavors: how each kind of model is written to files and read back.

This module is the one hook specification of flavors. A flavor is any object with the
attributes and methods of :class:`Flavor`. The built-in ones are listed in
:data:`BUILTIN_FLAVORS`; packages add their own through the ``steward.flavors`` entry-point
group (each entry point names a :class:`Flavor` object). Flavors whose library is not
installed report ``available() is False`` and are skipped when guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from steward.errors import InvalidInputError

from . import lightgbm as _lightgbm
from . import mlflow as _mlflow
from . import onnx as _onnx
from . import pyfunc as _pyfunc
from . import sklearn as _sklearn
from . import xgboost as _xgboost

__all__ = ["BUILTIN_FLAVORS", "Flavor", "LoadedModel", "all_flavors", "flavor_for", "get_flavor"]


class LoadedModel(Protocol):
    """What a flavor's ``load`` returns."""

    def predict(self, model_input: Any) -> Any:  # Any: frame/array in, model output out
        """Predict on input already validated against the signature."""
        ...


class Flavor(Protocol):
    """Hook specification of a model flavor."""

    name: str
    """Stable name stored with every version (``sklearn``, ``xgboost``, ...)."""

    def available(self) -> bool:
        """True when the flavor's library is importable."""
        ...

    def handles(self, model: object) -> bool:
        """True when this flavor can save ``model`` (used when no flavor is named)."""
        ...

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON options
        """Distribution names whose exact versions a saved model needs."""
        ...

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON
        """Write ``model`` into the empty folder ``path``; return options ``load`` needs.

        ``trusted`` allows unsafe formats (pickle); ``example`` is the input example (or
        None); ``artifacts`` are extra local files by name (pyfunc reads them)."""
        ...

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> LoadedModel:  # Any: JSON
        """Read the model written by ``save`` from ``path``."""
        ...


# Order matters when guessing: the most specific flavors first, pyfunc and sklearn last.
BUILTIN_FLAVORS: tuple[Flavor, ...] = (
    _xgboost.FLAVOR,
    _lightgbm.FLAVOR,
    _onnx.FLAVOR,
    _pyfunc.FLAVOR,
    _sklearn.FLAVOR,
    _mlflow.FLAVOR,  # never guessed (it saves nothing); loads MLflow-format folders
)


def all_flavors() -> list[Flavor]:
    """Built-in flavors followed by those of installed plugins."""
    found: list[Flavor] = list(BUILTIN_FLAVORS)
    for ep in entry_points(group="steward.flavors"):
        found.append(ep.load())
    return found


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``.

    Raises:
        InvalidInputError: no such flavor, or its library is not installed.
    """
    flavors = all_flavors()
    for flavor in flavors:
        if flavor.name == name:
            if not flavor.available():
                raise InvalidInputError(
                    f"flavor {name!r} needs its library; install steward[{name}]", field="flavor"
                )
            return flavor
    names = ", ".join(f.name for f in flavors)
    raise InvalidInputError(f"unknown flavor {str(name)[:40]!r}; flavors are: {names}", field="flavor")


def flavor_for(model: object) -> Flavor:
    """Guess the flavor of ``model``.

    Raises:
        InvalidInputError: no installed flavor knows the model's type.
    """
    for flavor in all_flavors():
        if flavor.available() and flavor.handles(model):
            return flavor
    raise InvalidInputError(
        f"no flavor can save a {type(model).__module__}.{type(model).__qualname__}; "
        "wrap it in a steward.pyfunc.PythonModel",
        field="model",
    )
