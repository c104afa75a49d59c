"""The real ``mlflow`` client, pointed at a live Steward server, logs runs Steward stores.

MLflow runs in a venv of its own (``bench/.venv-mlflow``, made by ``bench/mlflow_env.sh``)
so it never pins Steward's dependencies; the scripts under ``mlflow_scripts/`` run with
that venv's python and print one JSON document on their last stdout line. The tests then
read the same runs back through Steward's own SDK.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.core import Comparison, parse_filter
from steward.sdk import Client
from steward.server.mlflow._filters import translate_run_filter
from steward.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "mlflow_scripts"
MLFLOW_VENV = ROOT / "bench" / ".venv-mlflow"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"



def run_mlflow_script(python: Path, script: str, *args: str, cwd: Path) -> Any:  # Any: decoded JSON
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEWARD_"))}
    # No telemetry, no network: the only server these scripts talk to is the live one.
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    proc = subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        check=False,  # the assertion below shows the script's output
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


@pytest.mark.slow
# The error mapping does not depend on the store; the test above covers PostgreSQL.
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_mlflow_client_errors_carry_mlflow_error_codes(mlflow_python: Path, live_server: Any, tmp_path: Path) -> None:
    out = run_mlflow_script(mlflow_python, "bad_input.py", live_server.url, cwd=tmp_path)
    assert out["get_unknown_run"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["log_to_unknown_run"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["unknown_experiment"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["duplicate_experiment"] == "RESOURCE_ALREADY_EXISTS"
    assert out["filter_syntax_error"] == "INVALID_PARAMETER_VALUE"
    assert out["param_changed"] == "INVALID_PARAMETER_VALUE"
    assert "not found" in out["message"]




# -- the wire format, in process (fast; the same app as the live server) -------------------

MLFLOW = "/api/2.0/mlflow"


def _create_run(api: httpx.Client, experiment: str = "shapes", **fields: Any) -> dict[str, Any]:
    found = api.get(f"{MLFLOW}/experiments/get-by-name", params={"experiment_name": experiment})
    if found.status_code == 404:
        experiment_id = api.post(f"{MLFLOW}/experiments/create", json={"name": experiment}).json()["experiment_id"]
    else:
        experiment_id = found.json()["experiment"]["experiment_id"]
    response = api.post(f"{MLFLOW}/runs/create", json={"experiment_id": experiment_id, **fields})
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()["run"]
    return run


def test_a_run_comes_back_in_mlflow_json_with_int64_strings_and_nan_accepted(api: httpx.Client) -> None:
    run = _create_run(
        api,
        start_time="1700000000000",
        run_name="shaped",
        tags=[{"key": "mlflow.user", "value": "alice"}, {"key": "team", "value": "risk"}],
    )
    run_id = run["info"]["run_id"]
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "loss", "value": "NaN", "timestamp": "1700000000001", "step": "3", "run_id": run_id},
            {"key": "auc", "value": 0.9, "timestamp": 1700000000002, "step": 1},
        ],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "stage", "value": "dev"}],
    }
    assert api.post(f"{MLFLOW}/runs/log-batch", json=batch).json() == {}
    got = api.get(f"{MLFLOW}/runs/get", params={"run_uuid": run_id}).json()["run"]
    info = got["info"]
    assert info == {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": "shaped",
        "experiment_id": run["info"]["experiment_id"],
        "user_id": "alice",
        "status": "RUNNING",
        "start_time": 1700000000000,
        "artifact_uri": f"mlflow-artifacts:/{run['info']['experiment_id']}/{run_id}/artifacts",
        "lifecycle_stage": "active",
    }
    assert got["data"]["metrics"] == [
        {"key": "auc", "value": 0.9, "timestamp": 1700000000002, "step": 1},
        {"key": "loss", "value": "NaN", "timestamp": 1700000000001, "step": 3},
    ]
    assert got["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert {t["key"]: t["value"] for t in got["data"]["tags"]} == {
        "mlflow.runName": "shaped",
        "mlflow.user": "alice",
        "stage": "dev",
        "team": "risk",
    }
    ended = api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "KILLED", "end_time": "1700000000099"})
    assert ended.json()["run_info"]["status"] == "KILLED"
    assert ended.json()["run_info"]["end_time"] == 1700000000099
    steward_view = api.get(f"/api/v1/runs/{run_id}").json()
    assert steward_view["status"] == "killed" and steward_view["user"] == "alice" and steward_view["name"] == "shaped"


def test_experiment_id_zero_is_steward_default_experiment(api: httpx.Client) -> None:
    run = api.post(f"{MLFLOW}/runs/create", json={"experiment_id": "0"}).json()["run"]
    default = api.get(f"{MLFLOW}/experiments/get", params={"experiment_id": "0"}).json()["experiment"]
    assert default["name"] == "Default"
    assert run["info"]["experiment_id"] == default["experiment_id"]
    again = api.post(f"{MLFLOW}/runs/create", json={"experiment_id": 0}).json()["run"]
    assert again["info"]["experiment_id"] == default["experiment_id"]


def test_mlflow_routes_answer_errors_in_mlflow_shape_and_steward_routes_in_steward_shape(api: httpx.Client) -> None:
    missing = api.get(f"{MLFLOW}/runs/get", params={"run_id": "f" * 32})
    assert missing.status_code == 404
    assert missing.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"run '{'f' * 32}' not found"}
    no_id = api.get(f"{MLFLOW}/runs/get")
    assert no_id.status_code == 400 and no_id.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "run_id" in no_id.json()["message"]
    unknown = api.post(f"{MLFLOW}/no-such/endpoint", json={})
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    bad_json = api.post(f"{MLFLOW}/runs/log-batch", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error_code"] == "MALFORMED_REQUEST"
    wrong_type = api.post(f"{MLFLOW}/runs/log-batch", json={"run_id": "a" * 32, "metrics": "loss"})
    assert wrong_type.status_code == 400 and "metrics" in wrong_type.json()["message"]
    run_id = _create_run(api)["info"]["run_id"]
    bad_value = api.post(f"{MLFLOW}/runs/log-metric", json={"run_id": run_id, "key": "loss", "value": "high", "timestamp": 1})
    assert bad_value.status_code == 400 and bad_value.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    bad_status = api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "PAUSED"})
    assert bad_status.status_code == 400 and "status" in bad_status.json()["message"]
    bad_filter = api.post(f"{MLFLOW}/runs/search", json={"experiment_ids": ["0"], "filter": "metrics.auc >> 1"})
    assert bad_filter.status_code == 400 and "position" in bad_filter.json()["message"]
    assert api.get(f"/api/v1/runs/{'f' * 32}").json()["error"]["code"] == "NOT_FOUND"
    assert api.get(f"{MLFLOW}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["metrics"] == []


def test_mlflow_filter_names_reach_steward_attributes(api: httpx.Client) -> None:
    ids = {}
    for name, status in [("alpha", "FINISHED"), ("beta", "FAILED"), ("gamma", None)]:
        run = _create_run(api, "filters", run_name=name)
        run_id = run["info"]["run_id"]
        api.post(f"{MLFLOW}/runs/log-metric", json={"run_id": run_id, "key": "auc", "value": len(name) / 10, "timestamp": 1})
        api.post(f"{MLFLOW}/runs/log-parameter", json={"run_id": run_id, "key": "quote", "value": "it's"})
        if status:
            api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": status})
        ids[name] = run_id
    experiment_id = run["info"]["experiment_id"]

    def names(filter_: str, order_by: list[str] | None = None) -> list[str]:
        body = {"experiment_ids": [experiment_id], "filter": filter_, "order_by": order_by or ["tags.mlflow.runName ASC"]}
        response = api.post(f"{MLFLOW}/runs/search", json=body)
        assert response.status_code == 200, response.text
        return [r["info"]["run_name"] for r in response.json().get("runs", [])]

    assert names("tags.mlflow.runName = 'beta'") == ["beta"]
    assert names("tags.`mlflow.runName` LIKE '%a'") == ["alpha", "beta", "gamma"]
    assert names("attributes.status IN ('FINISHED', 'FAILED')") == ["alpha", "beta"]
    assert names("attributes.status = 'RUNNING'") == ["gamma"]
    assert names("attributes.run_name != 'alpha' and metrics.auc >= 0.5") == ["gamma"]
    assert names("params.quote = 'it\\'s'") == ["alpha", "beta", "gamma"]
    assert names("tags.mlflow.user = 'nobody'") == []
    assert names("", ["metrics.auc DESC", "attributes.run_name ASC"]) == ["alpha", "gamma", "beta"]  # alpha and gamma tie on auc

    api.post(f"{MLFLOW}/runs/delete", json={"run_id": ids["beta"]})
    view = {"experiment_ids": [experiment_id], "run_view_type": "DELETED_ONLY"}
    assert [r["info"]["run_name"] for r in api.post(f"{MLFLOW}/runs/search", json=view).json()["runs"]] == ["beta"]
    api.post(f"{MLFLOW}/runs/restore", json={"run_id": ids["beta"]})
    assert "beta" in names("")


def test_experiments_search_get_and_post_with_filters_order_and_pages(api: httpx.Client) -> None:
    for name in ["exp-a", "exp-b", "other"]:
        api.post(f"{MLFLOW}/experiments/create", json={"name": name, "tags": [{"key": "kind", "value": name[:3]}]})
    body = {"filter": "name LIKE 'exp-%'", "order_by": ["name DESC"], "max_results": 1}
    first = api.post(f"{MLFLOW}/experiments/search", json=body).json()
    assert [e["name"] for e in first["experiments"]] == ["exp-b"]
    second = api.post(f"{MLFLOW}/experiments/search", json={**body, "page_token": first["next_page_token"]}).json()
    assert [e["name"] for e in second["experiments"]] == ["exp-a"] and "next_page_token" not in second
    by_tag = api.get(f"{MLFLOW}/experiments/search", params={"filter": "tags.kind = 'oth'"}).json()
    assert [e["name"] for e in by_tag["experiments"]] == ["other"]
    assert by_tag["experiments"][0]["tags"] == [{"key": "kind", "value": "oth"}]
    other_id = by_tag["experiments"][0]["experiment_id"]
    api.post(f"{MLFLOW}/experiments/update", json={"experiment_id": other_id, "new_name": "renamed"})
    api.post(f"{MLFLOW}/experiments/delete", json={"experiment_id": other_id})
    deleted = api.get(f"{MLFLOW}/experiments/search", params={"view_type": "DELETED_ONLY"}).json()["experiments"]
    assert [(e["name"], e["lifecycle_stage"]) for e in deleted] == [("renamed", "deleted")]
    active = api.get(f"{MLFLOW}/experiments/search").json()["experiments"]
    assert sorted(e["name"] for e in active) == ["exp-a", "exp-b"]


def test_run_name_tag_renames_the_run_and_inputs_and_tags_map_to_steward(api: httpx.Client) -> None:
    run_id = _create_run(api, run_name="before")["info"]["run_id"]
    api.post(f"{MLFLOW}/runs/set-tag", json={"run_id": run_id, "key": "mlflow.runName", "value": "after"})
    api.post(f"{MLFLOW}/runs/set-tag", json={"run_id": run_id, "key": "note", "value": "x"})
    assert api.post(f"{MLFLOW}/runs/delete-tag", json={"run_id": run_id, "key": "note"}).json() == {}
    inputs = {
        "run_id": run_id,
        "datasets": [
            {
                "tags": [{"key": "mlflow.data.context", "value": "eval"}],
                "dataset": {"name": "churn", "digest": "abc", "source_type": "local", "source": "{}"},
            }
        ],
    }
    assert api.post(f"{MLFLOW}/runs/log-inputs", json=inputs).json() == {}
    stored = api.get(f"/api/v1/runs/{run_id}").json()
    assert stored["name"] == "after"
    assert "note" not in stored["tags"] and "mlflow.runName" not in stored["tags"]
    assert stored["inputs"] == [{"dataset": "churn", "role": "eval"}]
    shown = api.get(f"{MLFLOW}/runs/get", params={"run_id": run_id}).json()["run"]
    assert shown["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "churn"
    history = api.get(f"{MLFLOW}/metrics/get-history", params={"run_id": run_id, "metric_key": "none"}).json()
    assert history == {"metrics": []}
    assert api.post("/ajax-api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"]}).status_code == 200


def test_artifact_proxy_stores_lists_and_serves_run_artifacts(api: httpx.Client) -> None:
    run = _create_run(api)
    experiment_id, run_id = run["info"]["experiment_id"], run["info"]["run_id"]
    base = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
    assert api.put(f"{base}/model/weights.bin", content=b"\x00\x01" * 10).json() == {}
    assert api.put(f"{base}/notes.txt", content=b"hello").json() == {}
    listed = api.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{experiment_id}/{run_id}/artifacts"})
    assert listed.json() == {
        "files": [{"path": "model", "is_dir": True}, {"path": "notes.txt", "is_dir": False, "file_size": 5}]
    }
    inner = api.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{experiment_id}/{run_id}/artifacts/model"})
    assert inner.json() == {"files": [{"path": "weights.bin", "is_dir": False, "file_size": 20}]}
    assert api.get(f"{base}/model/weights.bin").content == b"\x00\x01" * 10
    assert api.get(f"/api/v1/runs/{run_id}/artifacts/notes.txt").content == b"hello"
    assert api.get(f"{base}/absent.txt").json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    wrong_experiment = api.put(f"/api/2.0/mlflow-artifacts/artifacts/999/{run_id}/artifacts/x.txt", content=b"x")
    assert wrong_experiment.status_code == 404
    escape = api.put(f"{base}/a/%2E%2E/%2E%2E/x.txt", content=b"x")
    assert escape.status_code in (400, 404) and "error_code" in escape.json()


_KEYS = st.from_regex(r"[A-Za-z0-9_\-. /:]{1,40}", fullmatch=True)


@given(key=_KEYS, value=st.text(max_size=60))
def test_translated_filters_keep_every_key_and_quoted_value(key: str, value: str) -> None:
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    translated = translate_run_filter(f"params.`{key}` = {quoted} or tags.mlflow.runName != {quoted}")
    assert parse_filter(translated) == parse_filter(
        f"params.`{key}` = {quoted} or attributes.name != {quoted}"
    )
    left = parse_filter(translated).operands[0]  # type: ignore[union-attr]
    assert left == Comparison("param", key, "=", value)
