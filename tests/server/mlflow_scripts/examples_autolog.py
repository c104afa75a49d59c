"""MLflow's sklearn_autolog linear_regression example, its calls as they are:
``mlflow.sklearn.autolog()``, a fit outside any run, ``mlflow.last_active_run()``, then the
example's ``fetch_logged_data`` (params, metrics, non-system tags, every artifact). Prints JSON.

Usage: python examples_autolog.py TRACKING_URL
"""

from __future__ import annotations

import json
import sys

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression


def artifacts_of(run_id: str, path: str | None = None) -> list[str]:
    client = MlflowClient()
    found: list[str] = []
    for item in client.list_artifacts(run_id, path):
        found += artifacts_of(run_id, item.path) if item.is_dir else [item.path]
    return found


def logged_data(run_id: str) -> dict[str, object]:
    data = MlflowClient().get_run(run_id).data
    return {
        "params": data.params,
        "metrics": data.metrics,
        "tags": {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")},
        "artifacts": artifacts_of(run_id),
    }


if __name__ == "__main__":
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.sklearn.autolog()
    X = np.array([[1, 1], [1, 2], [2, 2], [2, 3]])
    y = np.dot(X, np.array([1, 2])) + 3
    model = LinearRegression()
    model.fit(X, y)
    last = mlflow.last_active_run()
    assert last is not None
    run_id = last.info.run_id
    models = mlflow.search_logged_models(filter_string=f"source_run_id = '{run_id}'", output_format="list")
    print(json.dumps({"run_id": run_id, **logged_data(run_id), "logged_models": [m.name for m in models]}))
