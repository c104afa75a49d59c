"""Run with the mlflow venv's python: what MLflow's sklearn_autolog examples and mlflow.evaluate
do (grid search with child runs, a pipeline, evaluating a logged model), print JSON.

Usage: python autolog_examples.py TRACKING_URL
"""

from __future__ import annotations

import json
import sys
import warnings

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

warnings.filterwarnings("ignore")


def main(url: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("autolog-examples").experiment_id
    out: dict[str, object] = {}
    mlflow.sklearn.autolog()

    # examples/sklearn_autolog/grid_search_cv.py
    X, y = load_iris(return_X_y=True)
    with mlflow.start_run() as grid:
        GridSearchCV(SVC(), {"kernel": ("linear", "rbf"), "C": [1, 10]}).fit(X, y)
    run = client.get_run(grid.info.run_id)
    children = client.search_runs([experiment_id], filter_string=f"tags.mlflow.parentRunId = '{grid.info.run_id}'")
    out["grid"] = {
        "params": sorted(k for k in run.data.params if k.startswith("best_")),
        "metrics": sorted(run.data.metrics),
        "children": len(children),
        "artifacts": sorted(a.path for a in client.list_artifacts(grid.info.run_id)),
        "models": sorted(m.name for m in client.search_logged_models([experiment_id], filter_string=f"source_run_id = '{grid.info.run_id}'")),
    }

    # examples/sklearn_autolog/pipeline.py
    Xd, yd = load_diabetes(return_X_y=True)
    with mlflow.start_run() as piped:
        Pipeline([("scaler", StandardScaler()), ("lr", LinearRegression())]).fit(Xd, yd)
    out["pipeline_metrics"] = sorted(client.get_run(piped.info.run_id).data.metrics)
    out["pipeline_loads"] = type(mlflow.sklearn.load_model(f"runs:/{piped.info.run_id}/model")).__name__
    mlflow.sklearn.autolog(disable=True)

    # mlflow.evaluate of a logged model: metrics on the run and on the model
    Xb, yb = load_breast_cancer(return_X_y=True, as_frame=True)
    data = Xb.assign(label=yb)
    with mlflow.start_run() as evaluated:
        info = mlflow.sklearn.log_model(LogisticRegression(max_iter=3000).fit(Xb, yb), name="model", input_example=Xb.head(2))
        result = mlflow.evaluate(info.model_uri, data, targets="label", model_type="classifier", evaluators=["default"])
    out["evaluate_accuracy"] = result.metrics["accuracy_score"]
    out["evaluate_run_accuracy"] = client.get_run(evaluated.info.run_id).data.metrics.get("accuracy_score")
    out["evaluate_model_metrics"] = sorted({m.key for m in client.get_logged_model(info.model_id).metrics or []})
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
