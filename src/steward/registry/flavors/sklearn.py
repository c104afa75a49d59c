"""scikit-learn flavor: skops' secure format by default, pickle only for trusted sources."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError, PermissionDeniedError

from ._common import importable, type_path

_SKOPS_FILE = "model.skops"
_PICKLE_FILE = "model.pkl"


class SklearnFlavor:
    """Any estimator with ``predict`` from the scikit-learn ecosystem."""

    name = "sklearn"

    def available(self) -> bool:
        return importable("sklearn") and importable("skops")

    def handles(self, model: object) -> bool:
        if not importable("sklearn"):
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator) and hasattr(model, "predict")

    def packages(self, options: Mapping[str, Any]) -> list[str]:  # Any: JSON
        base = ["scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl"]
        return base if options.get("format") == "pickle" else [*base, "skops"]

    def save(
        self, model: object, path: Path, *, trusted: bool, example: Any, artifacts: Mapping[str, str] | None = None
    ) -> dict[str, Any]:  # Any: JSON; artifacts only matter to pyfunc
        if trusted:
            # the caller vouched for the source, so pickle's arbitrary code is accepted
            with open(path / _PICKLE_FILE, "wb") as f:
                pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
            return {"format": "pickle", "file": _PICKLE_FILE, "model_type": type_path(model)}
        import skops.io as sio

        sio.dump(model, path / _SKOPS_FILE)
        untrusted = sio.get_untrusted_types(file=path / _SKOPS_FILE)
        return {"format": "skops", "file": _SKOPS_FILE, "model_type": type_path(model), "untrusted_types": untrusted}

    def load(self, path: Path, options: Mapping[str, Any], *, trusted: bool) -> Any:  # Any: an estimator
        file = path / str(options.get("file", _SKOPS_FILE))
        if options.get("format") == "pickle":
            if not trusted:
                raise PermissionDeniedError(
                    f"{file.name} is a pickle, which can run any code when loaded; "
                    "pass trusted=True only if you trust where it came from",
                    field="trusted",
                )
            with open(file, "rb") as f:
                return pickle.load(f)
        if options.get("format") != "skops":
            raise InvalidInputError(f"unknown sklearn format {options.get('format')!r}", field="format")
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=file)
        # Types recorded when the model was logged were vetted by whoever held the live
        # object; the manifest check before this proves the file is the one logged then.
        recorded = set(options.get("untrusted_types") or [])
        unexpected = sorted(set(untrusted) - recorded)
        if unexpected and not trusted:
            raise PermissionDeniedError(
                f"{file.name} holds types skops does not trust: {', '.join(unexpected)}; "
                "pass trusted=True only if you trust where it came from",
                field="trusted",
            )
        return sio.load(file, trusted=untrusted)


FLAVOR = SklearnFlavor()
