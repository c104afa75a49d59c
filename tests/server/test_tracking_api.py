"""Steward's own tracking API under /api/v1: every route's happy path.

Most tests call the real app in-process (``api``: an httpx client on the ASGI app), on
SQLite and on PostgreSQL; one test repeats the whole tour against ``steward server``
running as a process, so uvicorn and the CLI entry point are covered too.
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openapi_spec_validator import validate

JSON = dict[str, Any]  # Any: decoded JSON


def _experiment(api: httpx.Client, name: str = "churn", **tags: str) -> JSON:
    resp = api.post("/api/v1/experiments", json={"name": name, "tags": tags})
    assert resp.status_code == 201, resp.text
    body: JSON = resp.json()
    return body


def _run(api: httpx.Client, experiment_id: str, **fields: Any) -> JSON:  # Any: JSON values
    resp = api.post("/api/v1/runs", json={"experiment_id": experiment_id, **fields})
    assert resp.status_code == 201, resp.text
    body: JSON = resp.json()
    return body


def _ok(resp: httpx.Response) -> Any:  # Any: decoded JSON
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_experiment_is_created_and_found_by_id_by_name_and_in_the_list(api: httpx.Client) -> None:
    created = _experiment(api, "churn", team="growth")
    assert created["name"] == "churn" and created["tags"] == {"team": "growth"}
    assert created["lifecycle_stage"] == "active"

    assert _ok(api.get(f"/api/v1/experiments/{created['experiment_id']}")) == created
    assert _ok(api.get("/api/v1/experiments", params={"name": "churn"}))["experiments"] == [created]
    assert _ok(api.get("/api/v1/experiments", params={"name": "absent"}))["experiments"] == []
    other = _experiment(api, "fraud")
    assert _ok(api.get("/api/v1/experiments"))["experiments"] == [created, other]


def test_deleting_an_experiment_hides_it_and_its_runs_unless_deleted_ones_are_asked_for(api: httpx.Client) -> None:
    exp = _experiment(api)
    run = _run(api, exp["experiment_id"])

    deleted = _ok(api.delete(f"/api/v1/experiments/{exp['experiment_id']}"))

    assert deleted["lifecycle_stage"] == "deleted"
    assert _ok(api.get("/api/v1/experiments"))["experiments"] == []
    assert [e["name"] for e in _ok(api.get("/api/v1/experiments", params={"include_deleted": "true"}))["experiments"]] == ["churn"]
    assert _ok(api.get("/api/v1/experiments", params={"name": "churn"}))["experiments"] == []
    assert _ok(api.post("/api/v1/runs/search", json={}))["runs"] == []
    found = _ok(api.post("/api/v1/runs/search", json={"include_deleted": True}))["runs"]
    assert [r["run_id"] for r in found] == [run["run_id"]]


def test_a_run_is_created_read_renamed_annotated_ended_and_deleted(api: httpx.Client) -> None:
    exp = _experiment(api)
    run = _run(api, exp["experiment_id"], name="baseline", params={"C": 1.0, "model": "gbm", "on": True}, tags={"team": "growth"}, start_time=1_700_000_000_000)
    assert run["status"] == "running" and run["name"] == "baseline"
    assert run["params"] == {"C": "1.0", "model": "gbm", "on": "True"}
    assert run["tags"] == {"team": "growth"} and run["start_time"] == 1_700_000_000_000
    assert run["artifact_uri"] == f"runs:/{run['run_id']}/"
    url = f"/api/v1/runs/{run['run_id']}"
    assert _ok(api.get(url)) == run

    renamed = _ok(api.patch(url, json={"name": "tuned", "note": "# Notes\nbetter C"}))
    assert (renamed["name"], renamed["note"], renamed["status"]) == ("tuned", "# Notes\nbetter C", "running")

    ended = _ok(api.patch(url, json={"status": "finished", "end_time": 1_700_000_100_000}))
    assert ended["status"] == "finished" and ended["end_time"] == 1_700_000_100_000
    assert _ok(api.get(url)) == ended

    deleted = _ok(api.delete(url))
    assert deleted["lifecycle_stage"] == "deleted"
    assert _ok(api.get("/api/v1/runs"))["runs"] == []


def test_a_run_may_choose_its_own_id_and_a_failed_run_keeps_its_traceback(api: httpx.Client) -> None:
    exp = _experiment(api)
    run = _run(api, exp["experiment_id"], run_id="ab" * 16)
    assert run["run_id"] == "ab" * 16

    failed = _ok(api.patch(f"/api/v1/runs/{'ab' * 16}", json={"status": "failed", "failure": "Traceback ...\nValueError: boom"}))

    assert failed["status"] == "failed" and failed["end_time"] is not None
    assert _ok(api.get(f"/api/v1/runs/{'ab' * 16}/failure")) == {"failure": "Traceback ...\nValueError: boom"}


def test_a_batch_of_points_params_and_tags_is_stored_and_read_back(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    url = f"/api/v1/runs/{run['run_id']}"
    points = [{"key": "loss", "value": 1.0 / (i + 1), "step": i, "timestamp": 1_700_000_000_000 + i} for i in range(50)]

    stored = _ok(api.post(f"{url}/batch", json={"metrics": points, "params": {"lr": 0.1}, "tags": {"phase": "train"}}))

    assert stored == {"metrics": 50, "params": 1, "tags": 1}
    history = _ok(api.get(f"{url}/metric-history", params={"key": "loss"}))["metrics"]
    assert history == points
    got = _ok(api.get(url))
    assert got["params"] == {"lr": "0.1"} and got["tags"] == {"phase": "train"}
    assert got["metrics"]["loss"] == points[-1]  # the latest step is the run's value


def test_columnar_metrics_are_stored_like_points_and_steps_may_be_left_out(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    url = f"/api/v1/runs/{run['run_id']}"
    columns = {
        "key": ["acc", "acc", "f1"],
        "value": [0.5, 0.75, 2],
        "step": [0, 1, 0],
        "timestamp": [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002],
    }

    assert _ok(api.post(f"{url}/batch", json={"metrics": columns}))["metrics"] == 3
    assert _ok(api.post(f"{url}/batch", json={"metrics": {"key": ["auc"], "value": [0.9]}}))["metrics"] == 1

    acc = _ok(api.get(f"{url}/metric-history", params={"key": "acc"}))["metrics"]
    assert [(m["value"], m["step"], m["timestamp"]) for m in acc] == [(0.5, 0, 1_700_000_000_000), (0.75, 1, 1_700_000_000_001)]
    assert _ok(api.get(f"{url}/metric-history", params={"key": "f1"}))["metrics"][0]["value"] == 2.0
    auc = _ok(api.get(f"{url}/metric-history", params={"key": "auc"}))["metrics"]
    assert [(m["value"], m["step"]) for m in auc] == [(0.9, 0)]
    assert auc[0]["timestamp"] > 1_700_000_000_000  # defaulted to the time of the request
    assert _ok(api.get(f"{url}/metric-history", params={"key": "never"}))["metrics"] == []


def _seed_runs(api: httpx.Client) -> tuple[JSON, list[JSON]]:
    exp = _experiment(api)
    runs = []
    for i in range(7):
        run = _run(api, exp["experiment_id"], name=f"r{i}", params={"model": "gbm" if i % 2 else "lr"})
        _ok(api.post(f"/api/v1/runs/{run['run_id']}/batch", json={"metrics": [{"key": "auc", "value": 0.8 + i / 100}]}))
        runs.append(run)
    _experiment(api, "other")
    return exp, runs


def test_search_filters_orders_and_pages_through_runs(api: httpx.Client) -> None:
    exp, runs = _seed_runs(api)
    by_name = {r["run_id"]: r["name"] for r in runs}

    page = _ok(api.post("/api/v1/runs/search", json={"experiments": ["churn"], "filter": "metrics.auc > 0.82 and params.model = 'gbm'", "order_by": ["metrics.auc DESC"]}))
    assert [r["name"] for r in page["runs"]] == ["r5", "r3"] and page["next_page_token"] is None

    seen: list[str] = []
    token = None
    for _ in range(10):
        body = {"experiments": [exp["experiment_id"]], "order_by": ["metrics.auc ASC"], "max_results": 3, "page_token": token}
        page = _ok(api.post("/api/v1/runs/search", json=body))
        seen += [by_name[r["run_id"]] for r in page["runs"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"r{i}" for i in range(7)]


def test_listing_runs_takes_the_same_filters_as_search_in_the_query_string(api: httpx.Client) -> None:
    _exp, _runs = _seed_runs(api)

    listed = _ok(api.get("/api/v1/runs", params={"experiment": "churn", "filter": "params.model = 'lr'", "order_by": "metrics.auc DESC"}))
    assert [r["name"] for r in listed["runs"]] == ["r6", "r4", "r2", "r0"]

    first = _ok(api.get("/api/v1/runs", params={"order_by": "attributes.name ASC", "max_results": 4}))
    rest = _ok(api.get("/api/v1/runs", params={"order_by": "attributes.name ASC", "max_results": 4, "page_token": first["next_page_token"]}))
    assert [r["name"] for r in first["runs"] + rest["runs"]] == [f"r{i}" for i in range(7)]
    assert rest["next_page_token"] is None
    assert _ok(api.get("/api/v1/runs", params={"experiment": "other"}))["runs"] == []


def test_artifacts_are_uploaded_listed_and_downloaded_at_nested_paths(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    url = f"/api/v1/runs/{run['run_id']}/artifacts"
    files = {"model/weights.bin": os.urandom(1000), "model/conf/params.json": b'{"C": 1}', "report.html": b"<html></html>", "a b/c%d.txt": b"odd name"}

    for path, data in files.items():
        resp = api.put(f"{url}/{quote(path)}", content=data)
        assert resp.status_code == 201, resp.text
        assert resp.json()["digest"] == hashlib.sha256(data).hexdigest() and resp.json()["size"] == len(data)

    listed = _ok(api.get(url))["artifacts"]
    assert [a["path"] for a in listed] == sorted(files)
    assert [a["path"] for a in _ok(api.get(url, params={"prefix": "model"}))["artifacts"]] == ["model/conf/params.json", "model/weights.bin"]
    assert [a["path"] for a in _ok(api.get(url, params={"prefix": "model/conf"}))["artifacts"]] == ["model/conf/params.json"]
    for path, data in files.items():
        got = api.get(f"{url}/{quote(path)}")
        assert got.status_code == 200 and got.content == data
        assert got.headers["x-content-sha256"] == hashlib.sha256(data).hexdigest()


def test_an_artifact_is_replaced_by_uploading_the_same_path_again(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    url = f"/api/v1/runs/{run['run_id']}/artifacts/notes.txt"
    api.put(url, content=b"first")
    api.put(url, content=b"second")
    assert api.get(url).content == b"second"
    assert len(_ok(api.get(f"/api/v1/runs/{run['run_id']}/artifacts"))["artifacts"]) == 1


def test_a_5_mb_artifact_round_trips_byte_for_byte(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    data = os.urandom(5 * 1024 * 1024)
    url = f"/api/v1/runs/{run['run_id']}/artifacts/data/big.bin"

    assert api.put(url, content=data).status_code == 201
    got = api.get(url)

    assert got.status_code == 200 and got.headers["content-length"] == str(len(data))
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(data).digest()


def test_dataset_inputs_are_recorded_on_the_run_once_each(api: httpx.Client) -> None:
    run = _run(api, _experiment(api)["experiment_id"])
    url = f"/api/v1/runs/{run['run_id']}/inputs"
    body = {"inputs": [{"dataset": "datasets:/churn/3"}, {"dataset": "datasets:/churn-test/1", "role": "eval"}]}

    first = _ok(api.post(url, json=body))
    again = _ok(api.post(url, json=body))

    expected = [{"dataset": "datasets:/churn/3", "role": "train"}, {"dataset": "datasets:/churn-test/1", "role": "eval"}]
    assert sorted(first["inputs"], key=str) == sorted(expected, key=str)
    assert sorted(again["inputs"], key=str) == sorted(expected, key=str)


def test_every_mutation_is_in_the_audit_trail_with_the_calling_user(api: httpx.Client) -> None:
    alice = {"X-Steward-User": "alice"}
    exp = api.post("/api/v1/experiments", json={"name": "audited"}, headers=alice).json()
    run = api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}, headers=alice).json()
    rid = run["run_id"]
    api.post(f"/api/v1/runs/{rid}/batch", json={"params": {"a": 1}}, headers=alice)
    api.put(f"/api/v1/runs/{rid}/artifacts/x.txt", content=b"x", headers=alice)
    api.post(f"/api/v1/runs/{rid}/inputs", json={"inputs": [{"dataset": "datasets:/d/1"}]}, headers=alice)
    api.patch(f"/api/v1/runs/{rid}", json={"status": "finished"}, headers=alice)
    api.delete(f"/api/v1/runs/{rid}", headers=alice)

    entries = _ok(api.get("/api/v1/audit"))["entries"]

    assert [e["action"] for e in entries] == [
        "experiments.create",
        "runs.create",
        "runs.log_batch",
        "runs.log_artifact",
        "runs.log_inputs",
        "runs.end",
        "runs.delete",
    ]
    assert {e["actor"] for e in entries} == {"alice"}
    assert run["user"] == "alice"
    assert [e["action"] for e in _ok(api.get("/api/v1/audit", params={"target": f"runs:/{rid}/"}))["entries"]] == ["runs.log_artifact"]
    assert len(_ok(api.get("/api/v1/audit", params={"max_results": 2}))["entries"]) == 2
    assert _ok(api.get("/api/v1/audit", params={"since": entries[-1]["timestamp"] + 1}))["entries"] == []


def test_the_live_server_serves_the_tracking_api_end_to_end(live_server: Any) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        assert _ok(api.get("/readyz"))["status"] == "ready"
        validate(_ok(api.get("/openapi.json")))
        exp = _experiment(api)
        run = _run(api, exp["experiment_id"], params={"C": 1})
        rid = run["run_id"]
        columns = {"key": ["loss"] * 3, "value": [1.0, "NaN", "-Infinity"], "step": [0, 1, 2], "timestamp": [1, 2, 3]}
        _ok(api.post(f"/api/v1/runs/{rid}/batch", json={"metrics": columns, "tags": {"t": "v"}}))
        history = _ok(api.get(f"/api/v1/runs/{rid}/metric-history", params={"key": "loss"}))["metrics"]
        assert [m["value"] for m in history] == [1.0, "NaN", "-Infinity"]
        assert api.put(f"/api/v1/runs/{rid}/artifacts/dir/file.txt", content=b"hello").status_code == 201
        assert api.get(f"/api/v1/runs/{rid}/artifacts/dir/file.txt").content == b"hello"
        _ok(api.patch(f"/api/v1/runs/{rid}", json={"status": "finished"}))
        found = _ok(api.post("/api/v1/runs/search", json={"filter": "params.C = '1'"}))["runs"]
        assert [r["run_id"] for r in found] == [rid] and found[0]["status"] == "finished"
        assert math.isinf(float(found[0]["metrics"]["loss"]["value"]))
        assert {e["actor"] for e in _ok(api.get("/api/v1/audit"))["entries"]} == {"server"}


@pytest.mark.parametrize("path", ["/api/v1/experiments", "/api/v1/runs", "/api/v1/audit"])
def test_listings_answer_json_on_an_empty_store(api: httpx.Client, path: str) -> None:
    body = _ok(api.get(path))
    assert next(iter(body.values())) == []
