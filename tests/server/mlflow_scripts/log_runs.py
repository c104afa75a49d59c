"""Run with the mlflow venv's python: log runs through the real mlflow client, print JSON.

Usage: python log_runs.py TRACKING_URL WORKDIR
"""

from __future__ import annotations

import json
import math
import os
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag


def main(url: str, workdir: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("mlflow-compat").experiment_id
    out: dict[str, object] = {"experiment_id": experiment_id}

    report = os.path.join(workdir, "summary.txt")
    with open(report, "w") as f:
        f.write("auc report\n")

    run_ids = []
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"lr-{lr}") as run:
            mlflow.log_param("lr", lr)
            mlflow.log_params({"model": "gbm", "depth": 3 + i})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1) + i, step=step)
            mlflow.log_metrics({"auc": 0.8 + i * 0.05, "nan_metric": math.nan}, step=5)
            mlflow.set_tag("team", "fraud")
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("batch", float(k), 1_700_000_000_000 + k, k) for k in range(10)],
                params=[Param("batch_size", "32")],
                tags=[RunTag("stage", "dev")],
            )
            if i == 0:
                mlflow.log_artifact(report, artifact_path="reports")
            run_ids.append(run.info.run_id)
    out["run_ids"] = run_ids

    try:
        with mlflow.start_run(run_name="boom"):
            raise ValueError("training diverged")
    except ValueError:
        pass

    history = client.get_metric_history(run_ids[0], "loss")
    out["history"] = [[m.step, m.value] for m in history]

    got = client.get_run(run_ids[0])
    out["run"] = {
        "run_id": got.info.run_id,
        "run_name": got.info.run_name,
        "status": got.info.status,
        "lifecycle_stage": got.info.lifecycle_stage,
        "artifact_uri": got.info.artifact_uri,
        "experiment_id": got.info.experiment_id,
        "end_time_set": got.info.end_time is not None,
        "params": dict(got.data.params),
        "metrics": {k: (None if math.isnan(v) else v) for k, v in got.data.metrics.items()},
        "tags": {k: v for k, v in got.data.tags.items() if k in ("team", "stage", "mlflow.runName", "mlflow.user")},
    }

    found = client.search_runs(
        [experiment_id], filter_string="metrics.auc > 0.82 and params.model = 'gbm'", order_by=["metrics.auc DESC"]
    )
    out["search_auc_desc"] = [r.info.run_name for r in found]
    by_name = client.search_runs([experiment_id], filter_string="tags.mlflow.runName = 'lr-0.01'")
    out["search_by_name"] = [r.info.run_id for r in by_name]
    finished = mlflow.search_runs(
        experiment_ids=[experiment_id], filter_string="attributes.status = 'FINISHED'", output_format="list"
    )
    out["finished_count"] = len(finished)
    failed = client.search_runs([experiment_id], filter_string="attributes.status = 'FAILED'")
    out["failed_names"] = [r.info.run_name for r in failed]

    out["artifacts"] = [(a.path, a.is_dir, a.file_size) for a in client.list_artifacts(run_ids[0])]
    out["report_artifacts"] = [(a.path, a.is_dir, a.file_size) for a in client.list_artifacts(run_ids[0], "reports")]
    local = mlflow.artifacts.download_artifacts(
        run_id=run_ids[0], artifact_path="reports/summary.txt", dst_path=os.path.join(workdir, "dl")
    )
    with open(local) as f:
        out["downloaded"] = f.read()

    client.delete_run(run_ids[2])
    out["deleted_stage"] = client.get_run(run_ids[2]).info.lifecycle_stage
    out["active_after_delete"] = sorted(r.info.run_id for r in client.search_runs([experiment_id]))

    default_run = client.create_run("0", run_name="in-default")
    client.set_terminated(default_run.info.run_id)
    out["default_run"] = {
        "experiment_id": default_run.info.experiment_id,
        "default_experiment": client.get_experiment_by_name("Default").experiment_id,
    }
    out["experiments"] = sorted(e.name for e in client.search_experiments())
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
