"""Run with the mlflow venv's python: log, find and load MLflow 3 logged models, print JSON.

Covers ``mlflow.sklearn.log_model`` and loading it back (``models:/<model_id>`` and
``runs:/<run_id>/model``), logged-model tags and params, ``search_logged_models``,
``mlflow.sklearn.autolog()`` and deleting a logged model.
Usage: python logged_models.py TRACKING_URL
"""

from __future__ import annotations

import json
import sys
import warnings

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")


def main(url: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("logged-models").experiment_id
    out: dict[str, object] = {"experiment_id": experiment_id}
    X, y = load_iris(return_X_y=True)

    # -- log_model and load it back ------------------------------------------------------
    with mlflow.start_run(run_name="explicit") as run:
        model = LogisticRegression(C=0.5, max_iter=500).fit(X, y)
        mlflow.log_param("C", 0.5)
        mlflow.log_metric("accuracy", float(model.score(X, y)))
        info = mlflow.sklearn.log_model(model, name="model", tags={"team": "iris"}, input_example=X[:2])
    run_id = run.info.run_id
    out["run_id"] = run_id
    out["model_id"] = info.model_id
    out["model_uri"] = info.model_uri
    expected = model.predict(X).tolist()
    by_id = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    out["loaded_by_id_predicts"] = by_id.predict(X).tolist() == expected
    by_run = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    out["loaded_by_run_predicts"] = by_run.predict(X).tolist() == expected
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    out["pyfunc_predicts"] = np.asarray(pyfunc.predict(X)).tolist() == expected

    got = client.get_logged_model(info.model_id)
    out["logged_model"] = {
        "name": got.name,
        "status": str(got.status),
        "source_run_id": got.source_run_id,
        "experiment_id": got.experiment_id,
        "artifact_location": got.artifact_location,
        "params": got.params,
        "tags": {k: v for k, v in got.tags.items() if not k.startswith("mlflow.")},
        "metrics": sorted({m.key for m in got.metrics or []}),
    }
    out["model_files"] = sorted(a.path for a in client.list_logged_model_artifacts(info.model_id))

    # -- tags and params -----------------------------------------------------------------
    mlflow.set_logged_model_tags(info.model_id, {"stage": "dev", "owner": "ana"})
    client.delete_logged_model_tag(info.model_id, "owner")
    mlflow.log_model_params({"solver": "lbfgs"}, model_id=info.model_id)
    again = client.get_logged_model(info.model_id)
    out["after_tags"] = {k: v for k, v in again.tags.items() if not k.startswith("mlflow.")}
    out["after_params"] = again.params

    # -- search --------------------------------------------------------------------------
    with mlflow.start_run(run_name="second"):
        other = mlflow.sklearn.log_model(LogisticRegression(C=2.0, max_iter=500).fit(X, y), name="other")
    found = mlflow.search_logged_models(experiment_ids=[experiment_id], filter_string="name = 'model'", output_format="list")
    out["search_by_name"] = [m.model_id for m in found]
    ordered = mlflow.search_logged_models(
        experiment_ids=[experiment_id], order_by=[{"field_name": "name", "ascending": False}], output_format="list"
    )
    out["search_ordered"] = [m.name for m in ordered]
    by_tag = client.search_logged_models([experiment_id], filter_string="tags.stage = 'dev' AND status = 'READY'")
    out["search_by_tag"] = [m.model_id for m in by_tag]
    frame = mlflow.search_logged_models(experiment_ids=[experiment_id])
    out["search_frame_rows"] = len(frame)
    out["other_model_id"] = other.model_id

    # -- autolog -------------------------------------------------------------------------
    mlflow.sklearn.autolog()
    with mlflow.start_run(run_name="autolog") as auto:
        LogisticRegression(C=3.0, max_iter=400).fit(X, y)
    mlflow.sklearn.autolog(disable=True)
    auto_run = client.get_run(auto.info.run_id)
    out["autolog_params"] = {k: auto_run.data.params.get(k) for k in ("C", "max_iter")}
    out["autolog_metrics"] = sorted(auto_run.data.metrics)
    auto_models = client.search_logged_models([experiment_id], filter_string=f"source_run_id = '{auto.info.run_id}'")
    out["autolog_models"] = [(m.name, str(m.status)) for m in auto_models]
    if auto_models:
        loaded = mlflow.sklearn.load_model(f"models:/{auto_models[0].model_id}")
        out["autolog_model_C"] = loaded.C
        out["autolog_run_uri_loads"] = mlflow.sklearn.load_model(f"runs:/{auto.info.run_id}/model").C

    # -- delete --------------------------------------------------------------------------
    client.delete_logged_model(other.model_id)
    try:
        client.get_logged_model(other.model_id)
        out["deleted_get"] = "no error"
    except MlflowException as exc:
        out["deleted_get"] = str(exc.error_code)
    remaining = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    out["after_delete"] = sorted(m.model_id for m in remaining)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
