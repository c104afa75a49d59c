"""Run with the mlflow venv's python: log to a finished run and resume it, print JSON.

Usage: python resume_runs.py TRACKING_URL
"""

from __future__ import annotations

import json
import sys

import mlflow
from mlflow import MlflowClient


def main(url: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    mlflow.set_experiment("resumed")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_param("lr", "0.1")
    run_id = run.info.run_id
    out: dict[str, object] = {"run_id": run_id, "status_after_first": client.get_run(run_id).info.status}

    # logging to the finished run, as MLflow's server allows
    client.log_metric(run_id, "late_metric", 1.5)
    client.log_param(run_id, "late_param", "x")
    client.set_tag(run_id, "late_tag", "y")
    after = client.get_run(run_id)
    out["finished_run"] = {
        "status": after.info.status,
        "metrics": after.data.metrics,
        "params": after.data.params,
        "late_tag": after.data.tags.get("late_tag"),
    }

    # resuming it
    with mlflow.start_run(run_id=run_id) as resumed:
        out["status_while_resumed"] = client.get_run(run_id).info.status
        out["same_run"] = resumed.info.run_id == run_id
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_param("epochs", 2)
    final = client.get_run(run_id)
    out["final"] = {"status": final.info.status, "end_time_set": final.info.end_time is not None, "metrics": final.data.metrics}
    out["loss_history"] = [[m.step, m.value] for m in client.get_metric_history(run_id, "loss")]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
