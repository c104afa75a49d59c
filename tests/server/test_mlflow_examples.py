"""MLflow's own scikit-learn examples, their MLflow calls unchanged, against a live Steward
server with the real mlflow 3.17.2 client (data loading swapped for scikit-learn's bundled
datasets where the examples download). The scripts are ``mlflow_scripts/examples_*.py``;
each run is then read back through Steward itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_mlflow_compat import run_mlflow_script

import steward.models
from steward.settings import Settings
from steward.wiring import Services


@pytest.mark.slow
# The examples do not depend on the store; the registry client test covers PostgreSQL.
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_mlflow_sklearn_examples_keep_their_runs_models_and_registered_versions(
    mlflow_python: Path, live_server: Any, settings: Settings, services: Services, tmp_path: Path
) -> None:
    tracking, registry = services.tracking("tester"), services.registry("tester")

    # sklearn_elasticnet_wine: params, metrics, and log_model(..., registered_model_name=...)
    wine = run_mlflow_script(mlflow_python, "examples_elasticnet_wine.py", live_server.url, str(tmp_path), cwd=tmp_path)
    assert wine["status"] == "FINISHED" and wine["params"] == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert wine["metrics"] == ["mae", "r2", "rmse"]
    assert wine["version"]["name"] == "ElasticnetWineModel" and wine["version"]["version"] == "1"
    assert wine["version"]["run_id"] == wine["run_id"] and wine["max_error"] < 1e-9
    run = tracking.get_run(wine["run_id"])
    assert set(run.metrics) == {"mae", "r2", "rmse"} and run.status.value == "finished"
    version = registry.get_version("ElasticnetWineModel", 1)
    assert version.flavor == "mlflow" and version.run_id == wine["run_id"] and set(version.metrics) == {"mae", "r2", "rmse"}
    saved = json.loads((tmp_path / "expected.json").read_text())
    x = pd.DataFrame(saved["rows"], columns=saved["columns"])
    predictor = steward.models.load("models:/ElasticnetWineModel/1", settings=settings, trusted=True)
    np.testing.assert_allclose(predictor.predict(x), saved["predictions"])

    # sklearn_logistic_regression: an implicit run, ended when the script exits
    logistic = run_mlflow_script(mlflow_python, "examples_logistic_regression.py", live_server.url, cwd=tmp_path)
    run = tracking.get_run(logistic["run_id"])
    assert run.status.value == "finished" and run.metrics["score"].value == pytest.approx(logistic["score"])
    assert logistic["model_id"].startswith("m-")

    # sklearn_autolog (linear_regression): params, training metrics and the model, all kept
    autolog = run_mlflow_script(mlflow_python, "examples_autolog.py", live_server.url, cwd=tmp_path)
    assert {"fit_intercept", "copy_X", "positive"} <= set(autolog["params"])
    assert {"training_score", "training_r2_score", "training_mean_squared_error"} <= set(autolog["metrics"])
    assert autolog["tags"]["estimator_name"] == "LinearRegression"
    assert autolog["logged_models"] == ["model"]
    assert tracking.get_run(autolog["run_id"]).metrics["training_r2_score"].value == pytest.approx(1.0)

    # evaluation (evaluate_on_binary_classifier): mlflow.evaluate's metrics land on the run
    evaluated = run_mlflow_script(mlflow_python, "examples_evaluate.py", live_server.url, cwd=tmp_path)
    assert evaluated["status"] == "FINISHED"
    assert {"accuracy_score", "f1_score", "roc_auc", "precision_score", "recall_score"} <= set(evaluated["result_metrics"])
    assert set(evaluated["result_metrics"]) <= set(evaluated["stored_metrics"])
    assert evaluated["inputs"]  # mlflow.evaluate records the evaluation data as the run's input
    stored = tracking.get_run(evaluated["run_id"])
    assert stored.metrics["accuracy_score"].value == pytest.approx(evaluated["stored_metrics"]["accuracy_score"])
