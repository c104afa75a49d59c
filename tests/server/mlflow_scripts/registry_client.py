"""Run with the mlflow venv's python: MLflow's model registry through the real client, print JSON.

Registers an ElasticNet twice: from a run's artifacts uploaded with ``mlflow.log_artifacts``
(a folder written by ``mlflow.sklearn.save_model``) and through
``mlflow.sklearn.log_model(..., registered_model_name=...)``; then aliases, tags, search,
stage transitions, descriptions, deletion and ``mlflow.pyfunc.load_model`` by alias and
version. Writes the original model's predictions to WORKDIR/expected.json.

Usage: python registry_client.py TRACKING_URL WORKDIR
"""

from __future__ import annotations

import json
import os
import sys
import warnings

# MLflow refuses to unpickle (or skops-load) a model unless told the source is trusted
os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet

warnings.filterwarnings("ignore")
NAME = "ElasticnetWineModel"


def main(url: str, workdir: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    mlflow.set_experiment("wine-registry")
    x, y = load_wine(return_X_y=True, as_frame=True)
    model = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(x, y)
    expected = model.predict(x)
    with open(os.path.join(workdir, "expected.json"), "w") as f:
        json.dump({"columns": list(x.columns), "rows": x.values.tolist(), "predictions": expected.tolist()}, f)
    out: dict[str, object] = {}

    # 1. a folder written by save_model, uploaded as run artifacts, registered by runs:/ URI
    saved = os.path.join(workdir, "saved")
    mlflow.sklearn.save_model(model, saved, signature=infer_signature(x, expected), input_example=x.head(3))
    with mlflow.start_run(run_name="uploaded") as run:
        mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.5})
        mlflow.log_metric("rmse", float(np.sqrt(np.mean((expected - y) ** 2))))
        mlflow.log_artifacts(saved, artifact_path="model")
    first = mlflow.register_model(f"runs:/{run.info.run_id}/model", NAME)
    out["first"] = {"name": first.name, "version": first.version, "status": first.status, "run_id": first.run_id,
                    "source": first.source, "run": run.info.run_id}

    # 2. log_model with registered_model_name (MLflow 3: a logged model, then registered)
    with mlflow.start_run(run_name="logged"):
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=NAME, input_example=x.head(3))
    second = client.get_model_version(NAME, "2")
    out["second"] = {"version": second.version, "logged_model_id": info.model_id, "source": second.source}

    # 3. aliases, tags, descriptions
    client.set_registered_model_alias(NAME, "champion", "1")
    client.set_registered_model_alias(NAME, "challenger", "2")
    out["by_alias"] = client.get_model_version_by_alias(NAME, "champion").version
    client.set_registered_model_tag(NAME, "team", "wine")
    client.set_model_version_tag(NAME, "2", "validated", "yes")
    client.update_registered_model(NAME, description="wine quality regression")
    client.update_model_version(NAME, "1", description="first fit")
    got = client.get_registered_model(NAME)
    out["model"] = {"name": got.name, "description": got.description, "tags": got.tags, "aliases": got.aliases,
                    "latest": sorted((v.version, v.current_stage) for v in got.latest_versions)}
    v2 = client.get_model_version(NAME, "2")
    out["v2"] = {"tags": v2.tags, "aliases": list(v2.aliases), "stage": v2.current_stage}
    client.delete_registered_model_alias(NAME, "challenger")
    client.delete_model_version_tag(NAME, "2", "validated")

    # 4. search
    out["search_models"] = [m.name for m in client.search_registered_models(filter_string=f"name = '{NAME}'")]
    out["search_like"] = [m.name for m in client.search_registered_models(filter_string="name LIKE 'Elastic%'")]
    out["search_versions"] = sorted(v.version for v in client.search_model_versions(f"name = '{NAME}'"))
    out["search_by_run"] = [v.version for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")]

    # 5. stages on Steward's lifecycle: Staging is approved; Production needs an approval
    staged = client.transition_model_version_stage(NAME, "2", "Staging")
    out["staged"] = staged.current_stage
    try:
        client.transition_model_version_stage(NAME, "2", "Production")
        out["production_without_approval"] = "allowed"
    except MlflowException as exc:
        out["production_without_approval"] = exc.error_code
    out["latest_staging"] = [v.version for v in client.get_latest_versions(NAME, stages=["Staging"])]

    # 6. loading through the registry, by alias and by version
    by_alias = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    by_version = mlflow.pyfunc.load_model(f"models:/{NAME}/2")
    out["alias_max_error"] = float(np.max(np.abs(by_alias.predict(x) - expected)))
    out["version_max_error"] = float(np.max(np.abs(by_version.predict(x) - expected)))
    out["download_uri"] = client.get_model_version_download_uri(NAME, "1")

    # 7. deleting a scratch model (candidates only), and errors in MLflow's words
    scratch = mlflow.register_model(f"runs:/{run.info.run_id}/model", "Scratch")
    client.delete_model_version("Scratch", scratch.version)
    client.delete_registered_model("Scratch")
    try:
        client.get_registered_model("Scratch")
    except MlflowException as exc:
        out["deleted"] = exc.error_code
    try:
        client.create_registered_model(NAME)
    except MlflowException as exc:
        out["duplicate"] = exc.error_code
    try:
        client.rename_registered_model(NAME, "Renamed")
    except MlflowException as exc:
        out["rename"] = exc.error_code
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
