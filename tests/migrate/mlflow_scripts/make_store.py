"""Fill an MLflow sqlite store: two experiments, runs with metric history, params, tags and
artifacts, one registered model with two versions and an alias. Runs with MLflow's python.

Usage: make_store.py FOLDER  (prints one JSON document with the ids it made)
"""

import json
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient

folder = sys.argv[1]
uri = f"sqlite:///{os.path.join(folder, 'mlflow.db')}"
mlflow.set_tracking_uri(uri)
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
exp = client.create_experiment("churn", artifact_location=os.path.join(folder, "mlruns"), tags={"team": "growth"})


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input["x"]]


run_ids = []
for lr in (0.1, 0.01):
    with mlflow.start_run(experiment_id=exp, run_name=f"lr-{lr}") as run:
        mlflow.log_params({"lr": lr, "depth": 3})
        mlflow.set_tags({"stage": "dev"})
        for step in range(5):
            client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1) + lr, timestamp=1_700_000_000_000 + step, step=step)
        mlflow.log_metric("auc", 0.8 + lr)
        path = os.path.join(folder, "notes.txt")
        with open(path, "w") as f:
            f.write(f"notes for {lr}\n")
        mlflow.log_artifact(path, artifact_path="reports")
        mlflow.pyfunc.log_model(name="model", python_model=Doubler(), registered_model_name="Churn Model")
        run_ids.append(run.info.run_id)
with mlflow.start_run(experiment_id=exp, run_name="broken") as run:
    run_ids.append(run.info.run_id)
client.set_terminated(run_ids[-1], status="FAILED")
client.set_registered_model_alias("Churn Model", "champion", "1")
client.set_registered_model_tag("Churn Model", "domain", "retention")
client.set_model_version_tag("Churn Model", "2", "validated", "yes")
print(json.dumps({"uri": uri, "run_ids": run_ids, "experiment_id": exp}))
