"""MLflow 3's logged models, logging to ended runs and resuming them, through Steward.

The first tests run the real ``mlflow`` 3 client (its own venv, see test_mlflow_compat.py)
against a live server: ``mlflow.sklearn.log_model`` and loading the model back,
``mlflow.sklearn.autolog()``, ``search_logged_models``, logged-model tags and params, and
``start_run(run_id=...)``. The rest call the in-process app: the wire format, bad input,
the audit trail, and the attacks (another project's contributor, a viewer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_mlflow_compat import run_mlflow_script

from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services, build_services

MLFLOW = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


# -- the real mlflow client against a live server -------------------------------------------


@pytest.mark.slow
# SQLite only: the MLflow client drives the same API on either store; the registry and tracking
# stores are tested on PostgreSQL by their own tests, and this run costs 20 s of CI per store
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_log_model_autolog_and_search_with_the_mlflow_client_store_load_and_find_models(
    mlflow_python: Path, live_server: Any, tmp_path: Path
) -> None:
    out = run_mlflow_script(mlflow_python, "logged_models.py", live_server.url, cwd=tmp_path)
    model_id, run_id, experiment_id = out["model_id"], out["run_id"], out["experiment_id"]

    assert out["loaded_by_id_predicts"] and out["loaded_by_run_predicts"] and out["pyfunc_predicts"]
    assert out["logged_model"] == {
        "name": "model",
        "status": "READY",
        "source_run_id": run_id,
        "experiment_id": experiment_id,
        "artifact_location": f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts",
        "params": {"C": "0.5"},  # the run's params at log time, as MLflow copies them
        "tags": {"team": "iris"},
        "metrics": ["accuracy"],  # the run's metrics of the model's step
    }
    assert {"MLmodel", "requirements.txt", "python_env.yaml"} <= set(out["model_files"])
    assert out["after_tags"] == {"team": "iris", "stage": "dev"}
    assert out["after_params"] == {"C": "0.5", "solver": "lbfgs"}

    assert model_id in out["search_by_name"] and out["other_model_id"] not in out["search_by_name"]
    assert out["search_ordered"][0] == "other" and set(out["search_ordered"][1:]) == {"model"}
    assert out["search_by_tag"] == [model_id]
    assert out["search_frame_rows"] == len(out["search_ordered"])

    # autolog: params, metrics and the model, as on MLflow's server
    assert out["autolog_params"] == {"C": "3.0", "max_iter": "400"}
    assert {"training_score", "training_accuracy_score"} <= set(out["autolog_metrics"])
    assert out["autolog_models"] == [["model", "READY"]]
    assert out["autolog_model_C"] == 3.0 and out["autolog_run_uri_loads"] == 3.0

    assert out["deleted_get"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["other_model_id"] not in out["after_delete"] and model_id in out["after_delete"]

    # the files are in Steward's content-addressed store, named by the model's manifest
    with httpx.Client(base_url=live_server.url) as http:
        listed = http.get(ARTIFACTS, params={"path": f"{experiment_id}/models/{model_id}/artifacts"}).json()
        assert {f["path"] for f in listed["files"] if not f["is_dir"]} == set(out["model_files"])
        mlmodel = http.get(f"{ARTIFACTS}/{experiment_id}/models/{model_id}/artifacts/MLmodel")
        assert mlmodel.status_code == 200 and f"model_id: {model_id}" in mlmodel.text
        audit = http.get("/api/v1/audit", params={"target": f"logged-models:/{model_id}", "limit": 1000}).json()
    actions = {e["action"] for e in (audit["entries"] if isinstance(audit, dict) else audit)}
    assert {"logged_models.create", "logged_models.finalize", "logged_models.log_artifact",
            "logged_models.set_tags", "logged_models.delete_tag", "logged_models.log_params"} <= actions


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the store logic runs on both in the tests below
def test_the_mlflow_client_logs_to_a_finished_run_and_resumes_it(mlflow_python: Path, live_server: Any, tmp_path: Path) -> None:
    out = run_mlflow_script(mlflow_python, "resume_runs.py", live_server.url, cwd=tmp_path)
    assert out["status_after_first"] == "FINISHED"
    finished = out["finished_run"]
    assert finished["status"] == "FINISHED"
    assert finished["metrics"] == {"loss": 0.5, "late_metric": 1.5}
    assert finished["params"] == {"lr": "0.1", "late_param": "x"} and finished["late_tag"] == "y"
    assert out["status_while_resumed"] == "RUNNING" and out["same_run"]
    assert out["final"]["status"] == "FINISHED" and out["final"]["end_time_set"]
    assert out["loss_history"] == [[0, 0.5], [1, 0.25]]
    with httpx.Client(base_url=live_server.url) as http:
        audit = http.get("/api/v1/audit", params={"target": f"runs:/{out['run_id']}", "limit": 1000}).json()
    actions = [e["action"] for e in (audit["entries"] if isinstance(audit, dict) else audit)]
    assert actions.count("runs.log_after_end") == 3 and actions.count("runs.resume") == 1
    assert actions.count("runs.end") == 2


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the first test covers PostgreSQL
def test_mlflow_sklearn_autolog_examples_and_evaluate_keep_their_runs_models_and_metrics(
    mlflow_python: Path, live_server: Any, tmp_path: Path
) -> None:
    out = run_mlflow_script(mlflow_python, "autolog_examples.py", live_server.url, cwd=tmp_path)
    grid = out["grid"]
    assert grid["params"] == ["best_C", "best_kernel"] and "best_cv_score" in grid["metrics"]
    assert grid["children"] == 4 and "cv_results.csv" in grid["artifacts"]
    assert grid["models"] == ["best_estimator", "model"]
    assert {"training_r2_score", "training_mean_squared_error"} <= set(out["pipeline_metrics"])
    assert out["pipeline_loads"] == "Pipeline"
    assert out["evaluate_accuracy"] > 0.9 and out["evaluate_run_accuracy"] == out["evaluate_accuracy"]
    assert {"accuracy_score", "f1_score", "roc_auc"} <= set(out["evaluate_model_metrics"])


# -- the wire format, in process -------------------------------------------------------------


def _experiment(api: httpx.Client, name: str = "lm") -> str:
    found = api.get(f"{MLFLOW}/experiments/get-by-name", params={"experiment_name": name})
    if found.status_code == 200:
        return str(found.json()["experiment"]["experiment_id"])
    return str(api.post(f"{MLFLOW}/experiments/create", json={"name": name}).json()["experiment_id"])


def _run(api: httpx.Client, experiment_id: str) -> str:
    return str(api.post(f"{MLFLOW}/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"]["run_id"])


def test_a_logged_model_is_created_finalized_tagged_given_params_and_deleted_in_mlflow_json(api: httpx.Client) -> None:
    eid = _experiment(api)
    run_id = _run(api, eid)
    created = api.post(f"{MLFLOW}/logged-models", json={
        "experiment_id": eid, "name": "clf", "model_type": "classifier", "source_run_id": run_id,
        "params": [{"key": "C", "value": "1"}], "tags": [{"key": "team", "value": "risk"}],
    })
    assert created.status_code == 200, created.text
    model = created.json()["model"]
    model_id = model["info"]["model_id"]
    assert model_id.startswith("m-") and len(model_id) == 34
    assert model["info"] | {"creation_timestamp_ms": 0, "last_updated_timestamp_ms": 0} == {
        "model_id": model_id, "experiment_id": eid, "name": "clf", "model_type": "classifier", "source_run_id": run_id,
        "status": "LOGGED_MODEL_PENDING", "artifact_uri": f"mlflow-artifacts:/{eid}/models/{model_id}/artifacts",
        "tags": [{"key": "team", "value": "risk"}], "creation_timestamp_ms": 0, "last_updated_timestamp_ms": 0,
    }
    assert model["data"] == {"params": [{"key": "C", "value": "1"}], "metrics": []}

    url = f"{MLFLOW}/logged-models/{model_id}"
    assert api.post(f"{MLFLOW}/runs/outputs", json={"run_id": run_id, "models": [{"model_id": model_id, "step": 3}]}).json() == {}
    shown = api.get(f"{MLFLOW}/runs/get", params={"run_id": run_id}).json()["run"]
    assert shown["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 3}]}
    assert api.put(f"{ARTIFACTS}/{eid}/models/{model_id}/artifacts/MLmodel", content=b"flavors: {}\n").json() == {}
    assert api.get(f"{ARTIFACTS}/{eid}/models/{model_id}/artifacts/MLmodel").content == b"flavors: {}\n"
    listed = api.get(ARTIFACTS, params={"path": f"{eid}/models/{model_id}/artifacts"}).json()
    assert listed == {"files": [{"path": "MLmodel", "is_dir": False, "file_size": 12}]}

    ready = api.patch(url, json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}).json()["model"]
    assert ready["info"]["status"] == "LOGGED_MODEL_READY"
    tagged = api.patch(f"{url}/tags", json={"tags": [{"key": "stage", "value": "dev"}]}).json()["model"]
    assert tagged["info"]["tags"] == [{"key": "stage", "value": "dev"}, {"key": "team", "value": "risk"}]
    assert api.delete(f"{url}/tags/team").json() == {}
    assert api.post(f"{url}/params", json={"params": [{"key": "solver", "value": "lbfgs"}]}).json() == {}
    batch = {"run_id": run_id, "metrics": [{"key": "auc", "value": 0.9, "timestamp": 5, "step": 3, "model_id": model_id,
                                            "dataset_name": "holdout"}]}
    assert api.post(f"{MLFLOW}/runs/log-batch", json=batch).json() == {}
    got = api.get(url).json()["model"]
    assert got["info"]["tags"] == [{"key": "stage", "value": "dev"}]
    assert got["data"]["params"] == [{"key": "C", "value": "1"}, {"key": "solver", "value": "lbfgs"}]
    assert got["data"]["metrics"] == [{"key": "auc", "value": 0.9, "timestamp": 5, "step": 3, "model_id": model_id,
                                       "run_id": run_id, "dataset_name": "holdout"}]

    search = {"experiment_ids": [eid], "filter": "metrics.auc > 0.5 AND params.solver = 'lbfgs' AND status = 'READY'"}
    assert [m["info"]["model_id"] for m in api.post(f"{MLFLOW}/logged-models/search", json=search).json()["models"]] == [model_id]
    assert api.post(f"{MLFLOW}/logged-models/search", json={**search, "filter": "name LIKE 'x%'"}).json() == {"models": []}

    assert api.delete(url).json() == {}
    assert api.get(url).json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.get(url, params={"allow_deleted": "true"}).json()["model"]["info"]["model_id"] == model_id
    assert api.post(f"{MLFLOW}/logged-models/search", json={"experiment_ids": [eid]}).json() == {"models": []}

    entries = api.get("/api/v1/audit", params={"target": f"logged-models:/{model_id}"}).json()
    actions = [e["action"] for e in (entries["entries"] if isinstance(entries, dict) else entries)]
    assert actions == [
        "logged_models.create", "logged_models.log_artifact", "logged_models.finalize", "logged_models.set_tags",
        "logged_models.delete_tag", "logged_models.log_params", "logged_models.log_metrics", "logged_models.delete",
    ]


def test_search_pages_orders_and_answers_bad_filters_with_400(api: httpx.Client) -> None:
    eid = _experiment(api, "lm-search")
    ids = [api.post(f"{MLFLOW}/logged-models", json={"experiment_id": eid, "name": f"m{i}"}).json()["model"]["info"]["model_id"]
           for i in range(3)]
    first = api.post(f"{MLFLOW}/logged-models/search", json={
        "experiment_ids": [eid], "max_results": 2, "order_by": [{"field_name": "name", "ascending": True}]}).json()
    assert [m["info"]["name"] for m in first["models"]] == ["m0", "m1"]
    rest = api.post(f"{MLFLOW}/logged-models/search", json={
        "experiment_ids": [eid], "max_results": 2, "order_by": [{"field_name": "name"}], "page_token": first["next_page_token"]}).json()
    assert [m["info"]["model_id"] for m in rest["models"]] == [ids[2]] and "next_page_token" not in rest
    newest = api.post(f"{MLFLOW}/logged-models/search", json={"experiment_ids": [eid]}).json()["models"]
    assert {m["info"]["model_id"] for m in newest} == set(ids)
    for bad, field in [("name = ", "filter"), ("name = 'a' OR name = 'b'", "filter"), ("colour = 'red'", "filter"),
                       ("metrics.auc > 'high'", "filter")]:
        resp = api.post(f"{MLFLOW}/logged-models/search", json={"experiment_ids": [eid], "filter": bad})
        assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE", (bad, resp.text)
    bad_order = api.post(f"{MLFLOW}/logged-models/search", json={"experiment_ids": [eid], "order_by": [{"field_name": "params.x"}]})
    assert bad_order.status_code == 400


def test_bad_logged_model_input_is_a_400_or_404_in_mlflow_shape(api: httpx.Client) -> None:
    eid = _experiment(api, "lm-bad")
    other_run = _run(api, _experiment(api, "lm-bad-other"))
    cases = [
        (api.post(f"{MLFLOW}/logged-models", json={"name": "x"}), 400, "experiment_id"),
        (api.post(f"{MLFLOW}/logged-models", json={"experiment_id": "987654"}), 404, "experiment"),
        (api.post(f"{MLFLOW}/logged-models", json={"experiment_id": eid, "source_run_id": "nope"}), 400, "run_id"),
        (api.post(f"{MLFLOW}/logged-models", json={"experiment_id": eid, "source_run_id": other_run}), 400, "not in experiment"),
        (api.post(f"{MLFLOW}/logged-models", json={"experiment_id": eid, "params": "C=1"}), 400, "params"),
        (api.get(f"{MLFLOW}/logged-models/not-an-id"), 400, "m-"),
        (api.get(f"{MLFLOW}/logged-models/m-{'0' * 32}"), 404, "not found"),
        (api.post(f"{MLFLOW}/runs/outputs", json={"models": []}), 400, "run_id"),
    ]
    model_id = api.post(f"{MLFLOW}/logged-models", json={"experiment_id": eid}).json()["model"]["info"]["model_id"]
    cases += [
        (api.patch(f"{MLFLOW}/logged-models/{model_id}", json={"status": "DONE"}), 400, "status"),
        (api.delete(f"{MLFLOW}/logged-models/{model_id}/tags/absent"), 404, "absent"),
        (api.post(f"{MLFLOW}/runs/outputs", json={"run_id": other_run, "models": [{"model_id": model_id}]}), 400, "experiment"),
        (api.put(f"{ARTIFACTS}/{eid}/models/{model_id}/artifacts/a/%2E%2E/%2E%2E/x", content=b"x"), 400, ".."),
        (api.put(f"{ARTIFACTS}/999/models/{model_id}/artifacts/x", content=b"x"), 404, "experiment"),
    ]
    api.post(f"{MLFLOW}/logged-models/{model_id}/params", json={"params": [{"key": "C", "value": "1"}]})
    cases.append((api.post(f"{MLFLOW}/logged-models/{model_id}/params", json={"params": [{"key": "C", "value": "2"}]}), 400, "immutable"))
    for resp, status, words in cases:
        assert resp.status_code == status and "error_code" in resp.json() and words in resp.json()["message"], resp.text


def test_an_ended_run_takes_mlflow_data_and_reopens_audited_while_stewards_api_keeps_it_closed(api: httpx.Client) -> None:
    run_id = _run(api, _experiment(api, "lm-ended"))
    api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "FINISHED"})
    assert api.post(f"{MLFLOW}/runs/log-metric", json={"run_id": run_id, "key": "late", "value": 1, "timestamp": 1}).json() == {}
    assert api.post(f"{MLFLOW}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v"}).json() == {}
    steward_api = api.post(f"/api/v1/runs/{run_id}/batch", json={"metrics": [{"key": "x", "value": 1.0, "step": 0, "timestamp": 1}]})
    assert steward_api.status_code == 409  # Steward's own API keeps ended runs closed
    info = api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "RUNNING"}).json()["run_info"]
    assert info["status"] == "RUNNING" and "end_time" not in info
    ended = api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 99}).json()["run_info"]
    assert ended["status"] == "FINISHED" and ended["end_time"] == 99
    api.post(f"{MLFLOW}/runs/delete", json={"run_id": run_id})
    deleted = api.post(f"{MLFLOW}/runs/log-metric", json={"run_id": run_id, "key": "late", "value": 1, "timestamp": 1})
    assert deleted.status_code == 400 and "deleted" in deleted.json()["message"]
    entries = api.get("/api/v1/audit", params={"target": f"runs:/{run_id}"}).json()
    actions = [e["action"] for e in (entries["entries"] if isinstance(entries, dict) else entries)]
    assert actions == ["runs.create", "runs.end", "runs.log_after_end", "runs.log_after_end", "runs.resume", "runs.end", "runs.delete"]


def test_runs_log_model_appends_the_model_to_the_runs_history_tag(api: httpx.Client) -> None:
    import json

    run_id = _run(api, _experiment(api, "lm-history"))
    model = {"artifact_path": "model", "flavors": {"python_function": {}}, "utc_time_created": "2026-01-01", "run_id": run_id}
    for path in ("model", "model2"):
        body = {"run_id": run_id, "model_json": json.dumps({**model, "artifact_path": path, "signature": {"inputs": "[]"}})}
        assert api.post(f"{MLFLOW}/runs/log-model", json=body).json() == {}
    tags = {t["key"]: t["value"] for t in api.get(f"{MLFLOW}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["model", "model2"] and "signature" not in history[0]
    for bad, words in [("{nope", "valid JSON"), ("[1]", "object"), (json.dumps({"flavors": {}}), "artifact_path")]:
        resp = api.post(f"{MLFLOW}/runs/log-model", json={"run_id": run_id, "model_json": bad})
        assert resp.status_code == 400 and words in resp.json()["message"], resp.text


def test_the_index_is_the_web_ui(api: httpx.Client) -> None:
    # the "View run at http://.../#/experiments/..." links the mlflow client prints open /:
    # the web UI's page there follows the fragment (tests/ui)
    resp = api.get("/", follow_redirects=False)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")


# -- attacks: another project's contributor, a viewer ------------------------------------------


class World:
    """A server with authentication on and a logged model in project ``alpha``."""

    def __init__(self, root: Path, transport: Any) -> None:  # Any: SyncASGITransport class
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False)
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, project, role in (("alice", "alpha", "contributor"), ("mallory", "beta", "contributor"),
                                    ("vera", "alpha", "viewer")):
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name).secret
        self._transport = transport(create_app(self.settings, self.services))
        self.http = httpx.Client(transport=self._transport, base_url="http://steward.test")
        tracking = self.services.tracking("alice")
        self.alpha = tracking.create_experiment("alpha-exp", project="alpha").experiment_id
        self.alpha_run = tracking.create_run(self.alpha).run_id
        self.beta = tracking.create_experiment("beta-exp", project="beta").experiment_id
        self.beta_run = tracking.create_run(self.beta).run_id
        self.model_id = self.services.logged_models("alice").create(self.alpha, name="alpha-model", source_run_id=self.alpha_run).model_id

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        return self.http.request(method, path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def close(self) -> None:
        self.http.close()
        self._transport.close()
        self.services.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sync_asgi_transport: Any) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("logged-models"), sync_asgi_transport)
    yield w
    w.close()


def _attacks(w: World) -> list[tuple[str, str, dict[str, Any]]]:  # Any: httpx options
    url = f"{MLFLOW}/logged-models/{w.model_id}"
    files = f"{ARTIFACTS}/{w.alpha}/models/{w.model_id}/artifacts"
    return [
        ("GET", url, {}),
        ("PATCH", url, {"json": {"status": "LOGGED_MODEL_READY"}}),
        ("DELETE", url, {}),
        ("PATCH", f"{url}/tags", {"json": {"tags": [{"key": "k", "value": "v"}]}}),
        ("DELETE", f"{url}/tags/k", {}),
        ("POST", f"{url}/params", {"json": {"params": [{"key": "k", "value": "v"}]}}),
        ("PUT", f"{files}/MLmodel", {"content": b"evil"}),
        ("GET", files + "/MLmodel", {}),
        ("GET", ARTIFACTS, {"params": {"path": f"{w.alpha}/models/{w.model_id}/artifacts"}}),
        ("POST", f"{MLFLOW}/logged-models", {"json": {"experiment_id": w.alpha, "name": "planted"}}),
        ("POST", f"{MLFLOW}/logged-models/search", {"json": {"experiment_ids": [w.alpha]}}),
    ]


def test_another_projects_contributor_cannot_read_change_or_delete_a_logged_model(world: World) -> None:
    for method, path, kwargs in _attacks(world):
        resp = world.call("mallory", method, path, **kwargs)
        assert resp.status_code == 403 and resp.json()["error_code"] == "PERMISSION_DENIED", (method, path, resp.text)
    # nor link it to, or log metrics for it from, a run of their own project
    outputs = world.call("mallory", "POST", f"{MLFLOW}/runs/outputs",
                         json={"run_id": world.beta_run, "models": [{"model_id": world.model_id}]})
    assert outputs.status_code == 400 and "experiment" in outputs.json()["message"]
    metrics = world.call("mallory", "POST", f"{MLFLOW}/runs/log-batch", json={"run_id": world.beta_run, "metrics": [
        {"key": "auc", "value": 1.0, "timestamp": 1, "step": 0, "model_id": world.model_id}]})
    assert metrics.status_code == 400 and "experiment" in metrics.json()["message"]
    assert world.services.logged_models("root").get(world.model_id).status.value == "pending"
    assert world.services.logged_models("root").get(world.model_id).metrics == ()


def test_a_viewer_reads_a_logged_model_but_cannot_create_or_change_one(world: World) -> None:
    assert world.call("vera", "GET", f"{MLFLOW}/logged-models/{world.model_id}").status_code == 200
    found = world.call("vera", "POST", f"{MLFLOW}/logged-models/search", json={"experiment_ids": [world.alpha]}).json()
    assert [m["info"]["model_id"] for m in found["models"]] == [world.model_id]
    for method, path, kwargs in _attacks(world):
        if method in ("GET",) or path.endswith("/search"):
            continue
        resp = world.call("vera", method, path, **kwargs)
        message = resp.json().get("message", "")
        assert resp.status_code == 403 and ("models.write" in message or "runs.write" in message), (method, path, resp.text)

def test_a_contributor_of_the_project_logs_a_model_end_to_end_with_authentication_on(world: World) -> None:
    created = world.call("alice", "POST", f"{MLFLOW}/logged-models",
                         json={"experiment_id": world.alpha, "name": "ok", "source_run_id": world.alpha_run})
    assert created.status_code == 200, created.text
    model_id = created.json()["model"]["info"]["model_id"]
    files = f"{ARTIFACTS}/{world.alpha}/models/{model_id}/artifacts"
    steps: list[tuple[str, str, dict[str, Any]]] = [  # Any: httpx options
        ("POST", f"{MLFLOW}/runs/outputs", {"json": {"run_id": world.alpha_run, "models": [{"model_id": model_id, "step": 0}]}}),
        ("PUT", f"{files}/MLmodel", {"content": b"flavors: {}\n"}),
        ("GET", ARTIFACTS, {"params": {"path": f"{world.alpha}/models/{model_id}/artifacts"}}),
        ("GET", f"{files}/MLmodel", {}),
        ("PATCH", f"{MLFLOW}/logged-models/{model_id}", {"json": {"status": "LOGGED_MODEL_READY"}}),
        ("POST", f"{MLFLOW}/logged-models/search", {"json": {"experiment_ids": [world.alpha], "filter": "name = 'ok'"}}),
    ]
    for method, path, kwargs in steps:
        resp = world.call("alice", method, path, **kwargs)
        assert resp.status_code == 200, (method, path, resp.text)
    assert [m["info"]["model_id"] for m in resp.json()["models"]] == [model_id]
    entries = world.services.store.list_audit(target=f"logged-models:/{model_id}")
    assert [(e.actor, e.action) for e in entries] == [
        ("alice", "logged_models.create"), ("alice", "logged_models.log_artifact"), ("alice", "logged_models.finalize")]
