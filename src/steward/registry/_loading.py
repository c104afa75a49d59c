"""Reading a model folder back: verify hashes, load the flavor, wrap it in a
:class:`Predictor` that checks every input against the signature."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import IntegrityError

from ._mlflow_format import MLMODEL_FILE, mlflow_meta
from ._packaging import MODEL_FILE, verify_manifest
from .flavors import LoadedModel, get_flavor
from .signature import Signature

__all__ = ["Predictor", "load_model_dir"]


@dataclass(frozen=True, slots=True)
class Predictor:
    """A loaded model. ``predict`` validates its input against the signature first.

    Attributes:
        model: the flavor's model object (an estimator, a session, a PythonModel).
        flavor: the flavor name.
        signature: the signature, or None for a model logged without an input example.
        requirements: the pinned requirements recorded when the model was logged.
        source: the model reference or folder it was loaded from.
    """

    model: LoadedModel
    flavor: str
    signature: Signature | None
    requirements: list[str]
    source: str

    def predict(self, data: Any) -> Any:  # Any: DataFrame/array in, model output out
        """Predict on ``data`` (a DataFrame, a 2-D array or a list of row dicts).

        Raises:
            InvalidInputError: missing or extra columns or wrong dtypes, named in the message.

        Example:
            >>> predictor = steward.models.load("fraud@champion")  # doctest: +SKIP
            >>> predictor.predict(df)  # doctest: +SKIP
        """
        model_input = self.signature.validate(data) if self.signature is not None else data
        return self.model.predict(model_input)


def load_model_dir(folder: Path, *, trusted: bool = False, source: str | None = None) -> Predictor:
    """Load the model in ``folder`` after checking every file against ``MANIFEST.json``.

    An MLflow-format folder (``MLmodel`` and no ``steward-model.json``) is read through its
    python_function flavor (:mod:`steward.registry.flavors.mlflow`).

    Raises:
        IntegrityError: a file was added, removed or changed (named in the message).
        PermissionDeniedError: the files need ``trusted=True`` (pickle, untrusted skops types).
    """
    verify_manifest(folder)
    try:
        if not (folder / MODEL_FILE).exists() and (folder / MLMODEL_FILE).is_file():
            meta = mlflow_meta(folder)
        else:
            meta = json.loads((folder / MODEL_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{MODEL_FILE} is missing or unreadable", field=MODEL_FILE) from exc
    flavor = get_flavor(str(meta["flavor"]))
    model = flavor.load(folder / str(meta.get("data", "data")), meta.get("options", {}), trusted=trusted)
    signature = Signature.from_dict(meta["signature"]) if meta.get("signature") else None
    return Predictor(model, flavor.name, signature, list(meta.get("requirements", [])), source or str(folder))
