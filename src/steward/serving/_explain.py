"""Per-prediction feature attributions for ``POST /v2/models/{name}/explain``.

Tree models get SHAP values (TreeExplainer) when the optional ``shap`` package is
installed. Any other model gets occlusion: each feature in turn is replaced by a baseline
value (the request's ``baseline`` row, else the mean of the request's rows, else 0) and the
change of the model's output is that feature's attribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steward.errors import InvalidInputError
from steward.evaluation._explain import is_tree_model, shap_available

from ._models import ServedModel
from ._payloads import Rows

__all__ = ["explain"]

MAX_EXPLAIN_ROWS = 100


def _scalar_output(model: ServedModel, rows: Rows) -> np.ndarray:
    """One number per row: the positive-class probability when the model has one, else its prediction."""
    estimator = model.predictor.model
    frame = model.schema.model_input(rows)
    proba = getattr(estimator, "predict_proba", None)
    if callable(proba):
        out = np.asarray(proba(frame), dtype=np.float64)
        return out[:, -1] if out.ndim == 2 else out
    predicted = model.predict_rows(rows)
    first = next(iter(predicted.values())) if isinstance(predicted, dict) else predicted
    arr = np.asarray(first, dtype=np.float64)
    return arr.reshape(len(arr), -1)[:, 0]


def explain(model: ServedModel, rows: Rows, baseline: Any = None) -> dict[str, Any]:  # Any: JSON
    """Attributions of each feature to each row's prediction.

    Returns:
        ``{"method", "feature_names", "attributions": [[per feature] per row], "base_values", "outputs"}``.

    Raises:
        InvalidInputError: too many rows, non-numeric columns, or a malformed baseline.
    """
    if rows.n > MAX_EXPLAIN_ROWS:
        raise InvalidInputError(f"explain takes at most {MAX_EXPLAIN_ROWS} rows", field="rows")
    schema = model.schema
    if not schema.numeric:
        raise InvalidInputError("explanations need numeric input columns", field="inputs")
    assert rows.matrix is not None
    names = list(schema.names)
    estimator = model.predictor.model
    if shap_available() and is_tree_model(estimator):
        import shap

        explainer = shap.TreeExplainer(estimator)
        values = explainer.shap_values(schema.model_input(rows))
        arr = np.asarray(values[-1] if isinstance(values, list) else values, dtype=np.float64)
        if arr.ndim == 3:
            arr = arr[:, :, -1]
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))[-1]
        return {
            "method": "shap", "feature_names": names, "attributions": arr,
            "base_values": np.full(rows.n, expected), "outputs": _scalar_output(model, rows),
        }
    base = _baseline(baseline, rows.matrix, names)
    outputs = _scalar_output(model, rows)
    attributions = np.empty((rows.n, len(names)))
    # every occluded copy of every row in one call: rows x features predictions at once
    occluded = np.repeat(rows.matrix, len(names), axis=0)
    for j in range(len(names)):
        occluded[j :: len(names), j] = base[j]
    scored = _scalar_output(model, Rows(len(occluded), matrix=occluded)).reshape(rows.n, len(names))
    attributions[:] = outputs[:, None] - scored
    base_rows = Rows(1, matrix=base.reshape(1, -1))
    return {
        "method": "occlusion", "feature_names": names, "attributions": attributions,
        "base_values": np.repeat(_scalar_output(model, base_rows), rows.n), "outputs": outputs,
        "baseline": base,
    }


def _baseline(given: Any, matrix: np.ndarray, names: list[str]) -> np.ndarray:  # Any: JSON
    if given is None:
        return matrix.mean(axis=0) if len(matrix) > 1 else np.zeros(len(names))
    if not isinstance(given, dict) or any(not isinstance(given.get(n), (int, float)) or isinstance(given.get(n), bool) for n in names):
        raise InvalidInputError("baseline must be an object with a number for every input column", field="baseline")
    return np.array([float(given[n]) for n in names])
