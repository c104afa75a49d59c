"""Run with the mlflow venv's python: provoke errors through the real mlflow client.

Prints a JSON object of {case: error_code} (or "no error").
Usage: python bad_input.py TRACKING_URL
"""

from __future__ import annotations

import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except MlflowException as exc:
        return str(exc.error_code)
    return "no error"


def main(url: str) -> dict[str, str]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    missing = "0" * 32
    experiment_id = client.create_experiment("bad-input")
    run = client.create_run(experiment_id)
    client.log_param(run.info.run_id, "lr", "0.1")
    results = {
        "get_unknown_run": code_of(lambda: client.get_run(missing)),
        "log_to_unknown_run": code_of(lambda: client.log_metric(missing, "loss", 1.0)),
        "unknown_experiment": code_of(lambda: client.get_experiment("987654")),
        "duplicate_experiment": code_of(lambda: client.create_experiment("bad-input")),
        "filter_syntax_error": code_of(lambda: client.search_runs([experiment_id], filter_string="metrics.auc >")),
        "param_changed": code_of(lambda: client.log_param(run.info.run_id, "lr", "0.2")),
    }
    client.set_terminated(run.info.run_id)
    # logging to an ended run is allowed, as on MLflow's server: test_mlflow_logged_models.py
    try:
        client.get_run(missing)
    except MlflowException as exc:
        results["message"] = exc.message
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
