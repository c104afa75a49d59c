"""The real ``mlflow`` client, pointed at a live Steward server, logs runs Steward stores.

MLflow runs in a venv of its own (``bench/.venv-mlflow``, made by ``bench/mlflow_env.sh``)
so it never pins Steward's dependencies; the scripts under ``mlflow_scripts/`` run with
that venv's python and print one JSON document on their last stdout line. The tests then
read the same runs back through Steward's own SDK.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.sdk import Client
from steward.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "mlflow_scripts"
MLFLOW_VENV = ROOT / "bench" / ".venv-mlflow"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    """The python of the MLflow venv, installed once per session when missing.

    An exclusive file lock keeps pytest-xdist workers from installing it twice at once.
    """
    if not MLFLOW_PYTHON.exists():
        lock_path = ROOT / "bench" / ".venv-mlflow.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not MLFLOW_PYTHON.exists():
                subprocess.run(["bash", str(ROOT / "bench" / "mlflow_env.sh")], check=True, timeout=1500)
    return MLFLOW_PYTHON


def run_mlflow_script(python: Path, script: str, *args: str, cwd: Path) -> Any:  # Any: decoded JSON
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEWARD_"))}
    # No telemetry, no network: the only server these scripts talk to is the live one.
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    proc = subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def steward_client(live_server: Any) -> Iterator[Client]:  # Any: conftest's LiveServer
    client = Client(Settings(tracking_uri=live_server.url, capture_git=False))
    yield client
    client.close()


@pytest.mark.slow
def test_runs_logged_with_the_mlflow_client_are_stored_and_shown_by_steward(
    mlflow_python: Path, live_server: Any, steward_client: Client, tmp_path: Path
) -> None:
    out = run_mlflow_script(mlflow_python, "log_runs.py", live_server.url, str(tmp_path), cwd=tmp_path)
    first, second, third = out["run_ids"]

    # what the mlflow client saw
    assert out["history"] == [[0, 1.0], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2]]
    run = out["run"]
    assert run["run_name"] == "lr-0.1"
    assert run["status"] == "FINISHED" and run["end_time_set"] and run["lifecycle_stage"] == "active"
    assert run["artifact_uri"] == f"mlflow-artifacts:/{out['experiment_id']}/{first}/artifacts"
    assert run["params"] == {"lr": "0.1", "model": "gbm", "depth": "3", "batch_size": "32"}
    assert run["metrics"] == {"loss": 0.2, "auc": 0.8, "nan_metric": None, "batch": 9.0}
    assert run["tags"]["team"] == "fraud" and run["tags"]["stage"] == "dev"
    assert run["tags"]["mlflow.runName"] == "lr-0.1"
    assert out["search_auc_desc"] == ["lr-0.001", "lr-0.01"]
    assert out["search_by_name"] == [second]
    assert out["finished_count"] == 3
    assert out["failed_names"] == ["boom"]
    assert out["artifacts"] == [["reports", True, None]]
    assert out["report_artifacts"] == [["reports/summary.txt", False, 11]]
    assert out["downloaded"] == "auc report\n"
    assert out["deleted_stage"] == "deleted"
    assert third not in out["active_after_delete"] and {first, second} <= set(out["active_after_delete"])
    assert out["default_run"]["experiment_id"] == out["default_run"]["default_experiment"]
    assert out["experiments"] == ["Default", "mlflow-compat"]

    # what Steward stores and shows through its own SDK and API
    stored = steward_client.get_run(first)
    assert stored.name == "lr-0.1"
    assert stored.status.value == "finished"
    assert stored.experiment_id == out["experiment_id"]
    assert stored.params == {"lr": "0.1", "model": "gbm", "depth": "3", "batch_size": "32"}
    assert stored.tags["team"] == "fraud" and "mlflow.runName" not in stored.tags
    assert stored.metrics["auc"].value == 0.8 and stored.metrics["auc"].step == 5
    assert math.isnan(stored.metrics["nan_metric"].value)
    assert [(m.step, m.value) for m in steward_client.get_metric_history(first, "loss")] == [
        (0, 1.0), (1, 0.5), (2, 1 / 3), (3, 0.25), (4, 0.2)
    ]
    assert [(m.step, m.timestamp) for m in steward_client.get_metric_history(first, "batch")] == [
        (k, 1_700_000_000_000 + k) for k in range(10)
    ]
    assert steward_client.read_artifact(first, "reports/summary.txt") == b"auc report\n"
    page = steward_client.search_runs("mlflow-compat", filter="metrics.auc > 0.82", order_by=["metrics.auc DESC"])
    assert [r.name for r in page.runs] == ["lr-0.01"]  # the third run is deleted
    failed = steward_client.search_runs("mlflow-compat", filter="status = 'failed'").runs
    assert [r.name for r in failed] == ["boom"]
    deleted = httpx.get(f"{live_server.url}/api/v1/runs/{third}").json()
    assert deleted["lifecycle_stage"] == "deleted"


def test_mlflow_client_errors_carry_mlflow_error_codes(mlflow_python: Path, live_server: Any, tmp_path: Path) -> None:
    out = run_mlflow_script(mlflow_python, "bad_input.py", live_server.url, cwd=tmp_path)
    assert out["get_unknown_run"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["log_to_unknown_run"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["unknown_experiment"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["duplicate_experiment"] == "RESOURCE_ALREADY_EXISTS"
    assert out["filter_syntax_error"] == "INVALID_PARAMETER_VALUE"
    assert out["param_changed"] == "INVALID_PARAMETER_VALUE"
    assert out["log_to_finished_run"] == "INVALID_PARAMETER_VALUE"
    assert "not found" in out["message"]


