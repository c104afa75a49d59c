"""MLflow's evaluation example (evaluate_on_binary_classifier), its calls as they are: a binary
classifier logged with ``mlflow.sklearn.log_model(model, "model")``, then ``mlflow.evaluate(..., model_type="classifier",
evaluators=["default"])`` (without ``dataset_name``, which mlflow 3 no longer takes). The adult data (a download) and XGBoost are swapped for
scikit-learn's bundled breast-cancer data and a logistic regression (mlflow 3.17's default
skops format refuses to load tree ensembles back without listing their types). The model URI is the one ``log_model`` returns: the example's
``mlflow.get_artifact_uri("model")`` names the run's folder, where MLflow 3's ``log_model``
no longer writes (its files go to the logged model), so it finds nothing on any MLflow 3
server. Prints JSON.

Usage: python examples_evaluate.py TRACKING_URL
"""

from __future__ import annotations

import json
import os
import sys
import warnings

os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"  # mlflow.evaluate loads the logged model

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    mlflow.set_tracking_uri(sys.argv[1])
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.33, random_state=42)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    eval_data = X_test.copy()
    eval_data["label"] = y_test
    with mlflow.start_run() as run:
        model_uri = mlflow.sklearn.log_model(model, "model").model_uri
        result = mlflow.evaluate(
            model_uri, eval_data, targets="label", model_type="classifier", evaluators=["default"]
        )
    stored = MlflowClient().get_run(run.info.run_id)
    print(json.dumps({
        "run_id": run.info.run_id,
        "model_uri": model_uri,
        "result_metrics": sorted(result.metrics),
        "result_artifacts": sorted(result.artifacts),
        "stored_metrics": stored.data.metrics,
        "inputs": [d.dataset.name for d in stored.inputs.dataset_inputs],
        "status": stored.info.status,
    }))
