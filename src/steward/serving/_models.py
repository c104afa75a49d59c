"""The model versions a serving process holds, and which one answers a request.

A :class:`Router` holds the current traffic plan and every loaded version it names (plus
those of the previous plan, so a rollback switches instantly). A new plan is installed
only after all its versions are loaded: a request never waits for a load.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from steward.core.traffic import TrafficPlan, Variant, choose_variant
from steward.errors import InvalidInputError, NotFoundError
from steward.registry import Predictor

from ._batching import MicroBatcher
from ._payloads import Outputs, Rows, Schema, outputs_of

__all__ = ["Router", "ServedModel", "load_served", "single_model_plan"]

_URI = re.compile(r"^models:/(?P<name>.+)/(?P<version>\d+)$")


@dataclass(slots=True)
class ServedModel:
    """One loaded model version with its compiled schema and its micro-batcher."""

    name: str
    version: int
    predictor: Predictor
    schema: Schema
    batcher: MicroBatcher | None = None
    # the same estimator taking a bare array (see array_twin); None: it needs its DataFrame
    array_model: Any = None  # Any: the flavor's model object

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def predict_rows(self, rows: Rows) -> Outputs:
        """Predict checked rows (blocking): the batcher's thread, scoring and explanations call it."""
        if self.array_model is not None and rows.matrix is not None:
            return outputs_of(self.array_model.predict(rows.matrix), rows.n)
        return outputs_of(self.predictor.model.predict(self.schema.model_input(rows)), rows.n)

    async def predict(self, rows: Rows) -> Outputs:
        assert self.batcher is not None
        return await self.batcher.predict(rows)

    async def predict_measured(self, rows: Rows) -> tuple[Outputs, float]:
        """The outputs and the CPU-seconds their prediction took (see ``MicroBatcher.predict_measured``)."""
        assert self.batcher is not None
        return await self.batcher.predict_measured(rows)


def load_served(predictor: Predictor) -> ServedModel:
    """Wrap a loaded predictor for serving.

    Raises:
        InvalidInputError: the model has no signature (nothing to check requests against).
    """
    found = _URI.match(predictor.source)
    name, version = (found["name"], int(found["version"])) if found else (predictor.source, 0)
    if predictor.signature is None or not predictor.signature.inputs:
        raise InvalidInputError(
            f"{name}:{version} has no signature; log it with an input_example to serve it", field="signature"
        )
    schema = Schema(predictor.signature)
    return ServedModel(name, version, predictor, schema, array_model=array_twin(predictor.model, schema))


def _strip_names(model: object) -> None:
    if hasattr(model, "feature_names_in_"):
        try:
            delattr(model, "feature_names_in_")
        except AttributeError:  # a property derived from an inner step (Pipeline): stripped below
            pass
    for _, step in getattr(model, "steps", []) or []:
        if step is not None and step != "passthrough":
            _strip_names(step)


def array_twin(model: Any, schema: Schema) -> Any:  # Any: the flavor's model object
    """A copy of a scikit-learn-style estimator fitted on a DataFrame that takes the numeric
    matrix directly, or None.

    Building a DataFrame and checking its column names costs far more than a small model's
    predict (about 8x for a 20-feature logistic regression). The copy forgets the names it
    was fitted with, which is safe only when they are the signature's columns in order (the
    server has checked them) and the copy predicts exactly what the original predicts on a
    probe batch; anything else (a ColumnTransformer selecting by name...) keeps the frame.
    """
    names = getattr(model, "feature_names_in_", None)
    if not schema.numeric or not schema.dataframe or names is None or [str(n) for n in names] != list(schema.names):
        return None
    try:
        twin = copy.deepcopy(model)
        _strip_names(twin)
        rng = np.random.default_rng(0)
        probe = rng.normal(size=(8, len(schema.names))).round(0 if not schema.all_float else 3)
        expected = np.asarray(model.predict(schema.model_input(Rows(8, matrix=probe))))
        got = np.asarray(twin.predict(probe))
    except Exception:  # noqa: BLE001 - any failure means the frame is needed
        return None
    same = expected.shape == got.shape and (
        np.array_equal(expected, got, equal_nan=True) if expected.dtype.kind in "fc" else np.array_equal(expected, got)
    )
    return twin if same else None


def single_model_plan(model: ServedModel) -> TrafficPlan:
    """The plan of ``steward serve REF``: one primary variant taking every request."""
    return TrafficPlan(deployment=model.name, revision=0, variants=(Variant("primary", model.ref, 100.0),))


class Router:
    """The current plan and its loaded versions; picks the variant of each request.

    Args:
        make_batcher: builds the micro-batcher of a newly installed version.
    """

    def __init__(self, make_batcher: Callable[[ServedModel, str], MicroBatcher]) -> None:
        self.plan: TrafficPlan | None = None
        self.models: dict[str, ServedModel] = {}
        self._make_batcher = make_batcher
        self._previous: set[str] = set()
        self._random = random.random

    @property
    def ready(self) -> bool:
        return self.plan is not None and bool(self.plan.live)

    def install(self, plan: TrafficPlan, loaded: dict[str, ServedModel]) -> list[ServedModel]:
        """Switch to ``plan`` (every version it names must be in ``loaded`` or held already).

        Returns:
            the versions no longer needed (neither in this plan nor the previous one).
        """
        for ref, model in loaded.items():
            if ref not in self.models:
                model.batcher = self._make_batcher(model, ref)
                self.models[ref] = model
        current = {v.model for v in plan.variants}
        missing = current - set(self.models)
        if missing:
            raise NotFoundError(f"plan revision {plan.revision} names versions not loaded: {', '.join(sorted(missing))}")
        keep = current | self._previous
        dropped = [m for ref, m in self.models.items() if ref not in keep]
        for model in dropped:
            del self.models[model.ref]
        self._previous = current
        self.plan = plan
        return dropped

    def needed(self, plan: TrafficPlan) -> list[str]:
        """Versions ``plan`` names that are not loaded yet."""
        return sorted({v.model for v in plan.variants} - set(self.models))

    def route(self, key: str | None) -> tuple[Variant, ServedModel]:
        """The live variant that answers a request with sticky-key value ``key``.

        Raises:
            NotFoundError: nothing is being served yet.
        """
        plan = self.plan
        if plan is None or not plan.live:
            raise NotFoundError("no model is being served yet")
        variant = choose_variant(plan, key, self._random())
        return variant, self.models[variant.model]

    def shadows(self) -> list[tuple[Variant, ServedModel]]:
        plan = self.plan
        return [] if plan is None else [(v, self.models[v.model]) for v in plan.shadows if v.model in self.models]

    def pinned(self, name: str, version: int) -> tuple[Variant, ServedModel]:
        """The variant serving ``name`` at ``version`` (``.../versions/{v}/infer``).

        Raises:
            NotFoundError: no variant of the plan serves that version.
        """
        plan = self.plan
        for variant in plan.variants if plan is not None else ():
            model = self.models.get(variant.model)
            if model is not None and model.version == version and name in (model.name, plan.deployment if plan else ""):
                return variant, model
        raise NotFoundError(f"version {version} of {name} is not served here", field="version")

    def knows(self, name: str) -> bool:
        """True when ``name`` is the deployment or one of its models."""
        plan = self.plan
        if plan is None:
            return False
        return name == plan.deployment or any(self.models[v.model].name == name for v in plan.variants if v.model in self.models)
