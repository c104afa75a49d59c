"""The adversarial review's cross-project findings, each written as the attack.

Project ``alpha`` holds an experiment, a run with a registered model and a dataset;
``mallory`` is a contributor on project ``beta`` only and ``vera`` a viewer of ``alpha``
only. Every attack must be refused with a JSON error, leave an audit entry naming the
caller, and change nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services, build_services


class World:
    def __init__(self, root: Path, transport: Any) -> None:  # Any: SyncASGITransport class
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False)
        self.services: Services = build_services(self.settings)
        self.app = create_app(self.settings, self.services)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, project, role in (("mallory", "beta", "contributor"), ("vera", "alpha", "viewer"), ("bob", "beta", "contributor")):
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name).secret
        from sklearn.linear_model import LogisticRegression

        self.frame = pd.DataFrame({"amount": np.arange(20, dtype=float), "count": np.arange(20) % 2})
        for project in ("alpha", "beta"):
            client = Client(self.settings.model_copy(update={"project": project}))
            try:
                with client.start_run(f"{project}-exp") as run:
                    run.log_text(f"{project}'s secret notes", "notes.txt")
                    model = LogisticRegression().fit(self.frame[["amount"]], self.frame["count"])
                    setattr(self, f"{project}_model", model)
                    run.log_model(model, "model", input_example=self.frame[["amount"]].head(2), registered_model_name=f"{project}-model")
                setattr(self, f"{project}_run", run.run_id)
            finally:
                client.close()
            self.services.data("setup").register(f"{project}-data", self.frame, project=project)
        tracking = self.services.tracking("setup")
        self.alpha_experiment = tracking.get_run(self.alpha_run).experiment_id
        self.beta_experiment = tracking.get_run(self.beta_run).experiment_id
        self._transport = transport(self.app)
        self.http = httpx.Client(transport=self._transport, base_url="http://steward.test")

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def denials(self, who: str) -> list[Any]:  # Any: AuditEntry
        return [e for e in self.services.store.list_audit(limit=100_000) if e.actor == who and "denied" in e.action]

    def close(self) -> None:
        self.http.close()
        self._transport.close()
        self.services.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sync_asgi_transport: Any) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("attacks"), sync_asgi_transport)
    yield w
    w.close()


def _refused(resp: httpx.Response) -> None:
    assert resp.status_code == 403, resp.text
    body = resp.json()
    code = body["error"]["code"] if isinstance(body.get("error"), dict) else body.get("error_code")
    assert code == "PERMISSION_DENIED", body


def _model_file(world: World, run_id: str) -> tuple[str, bytes]:
    tracking = world.services.tracking("check")
    info = next(a for a in tracking.list_artifacts(run_id, "models") if a.path.endswith(".skops"))
    _meta, stream = tracking.open_artifact(run_id, info.path)
    with stream:
        return info.path, stream.read()


def test_a_contributor_of_beta_cannot_overwrite_alphas_model_file_and_alphas_version_still_loads_the_original(world: World) -> None:
    path, original = _model_file(world, world.alpha_run)
    before = len(world.denials("mallory"))
    evil = b"not a model: attacker's bytes"
    mlflow_path = f"{world.alpha_experiment}/{world.alpha_run}/artifacts/{path}"
    _refused(world.http.put(f"/api/2.0/mlflow-artifacts/artifacts/{mlflow_path}", content=evil, headers=world.as_("mallory")))
    _refused(world.http.put(f"/api/v1/runs/{world.alpha_run}/artifacts/{path}", content=evil, headers=world.as_("mallory")))
    assert _model_file(world, world.alpha_run) == (path, original)
    assert len(world.denials("mallory")) >= before + 2
    # an administrator loading the registered version gets alpha's model, not the attacker's file
    import steward.models

    predictor = steward.models.load("models:/alpha-model/1", settings=world.settings)
    sample = world.frame[["amount"]]
    assert list(predictor.predict(sample)) == list(world.alpha_model.predict(sample))


def test_a_viewer_of_alpha_cannot_read_betas_artifacts_runs_or_metrics(world: World) -> None:
    vera = world.as_("vera")
    mlflow_path = f"{world.beta_experiment}/{world.beta_run}/artifacts/notes.txt"
    for resp in (
        world.http.get(f"/api/2.0/mlflow-artifacts/artifacts/{mlflow_path}", headers=vera),
        world.http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{world.beta_experiment}/{world.beta_run}/artifacts"}, headers=vera),
        world.http.get(f"/api/v1/runs/{world.beta_run}/artifacts/notes.txt", headers=vera),
        world.http.get("/api/2.0/mlflow/runs/get", params={"run_id": world.beta_run}, headers=vera),
        world.http.get("/api/2.0/mlflow/metrics/get-history", params={"run_id": world.beta_run, "metric_key": "x"}, headers=vera),
        world.http.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [world.beta_experiment]}, headers=vera),
        world.http.get("/api/v1/datasets/beta-data/versions/1", headers=vera),
        world.http.get("/api/v1/models/beta-model/versions/1", headers=vera),
    ):
        _refused(resp)
        assert "beta's secret notes" not in resp.text
    # the searches whose project is not named return alpha's objects only
    found = world.http.post("/api/2.0/mlflow/experiments/search", json={}, headers=vera).json()
    assert [e["name"] for e in found["experiments"]] == ["alpha-exp"]
    versions = world.http.get("/api/v1/model-versions", headers=vera).json()["versions"]
    assert {v["name"] for v in versions} == {"alpha-model"}
    assert {d["name"] for d in world.http.get("/api/v1/datasets", headers=vera).json()["datasets"]} == {"alpha-data"}
    assert world.denials("vera")


def test_a_contributor_of_beta_cannot_change_or_delete_alphas_experiment_and_runs_through_mlflow(world: World) -> None:
    mallory = world.as_("mallory")
    tracking = world.services.tracking("check")
    before = tracking.get_run(world.alpha_run)
    for resp in (
        world.http.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": world.alpha_run, "params": [{"key": "p", "value": "1"}]}, headers=mallory),
        world.http.post("/api/2.0/mlflow/runs/set-tag", json={"run_id": world.alpha_run, "key": "t", "value": "x"}, headers=mallory),
        world.http.post("/api/2.0/mlflow/runs/delete", json={"run_id": world.alpha_run}, headers=mallory),
        world.http.post("/api/2.0/mlflow/experiments/delete", json={"experiment_id": world.alpha_experiment}, headers=mallory),
        world.http.post("/api/2.0/mlflow/experiments/update", json={"experiment_id": world.alpha_experiment, "new_name": "x"}, headers=mallory),
        world.http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": world.alpha_experiment}, headers=mallory),
    ):
        _refused(resp)
    after = tracking.get_run(world.alpha_run)
    assert (after.params, after.tags, after.lifecycle_stage) == (before.params, before.tags, before.lifecycle_stage)
    assert tracking.get_experiment(world.alpha_experiment).name == "alpha-exp"
    assert tracking.get_experiment(world.alpha_experiment).lifecycle_stage == "active"


def test_cross_project_writes_on_v1_routes_are_refused_and_store_nothing(world: World) -> None:
    mallory = world.as_("mallory")
    tracking = world.services.tracking("check")
    runs_before = len(tracking.search_runs(None, max_results=1000).runs)
    _refused(world.http.post("/api/v1/runs", json={"experiment_id": world.alpha_experiment}, headers=mallory))
    buf = io.BytesIO()
    world.frame.assign(amount=world.frame["amount"] + 1).to_parquet(buf)
    _refused(world.http.post("/api/v1/datasets/alpha-data/versions", content=buf.getvalue(), headers={**mallory, "content-type": "application/vnd.apache.parquet"}))
    _refused(world.http.post("/api/v1/validations", json={"dataset": "alpha-data:1", "suite": "any"}, headers=mallory))
    _refused(world.http.post("/api/v1/models/alpha-model/versions", json={"run_id": world.beta_run}, headers=mallory))
    # a model version may not be made of another project's run
    _refused(world.http.post("/api/v1/models/beta-model/versions", json={"run_id": world.alpha_run}, headers=mallory))
    assert len(tracking.search_runs(None, max_results=1000).runs) == runs_before
    assert [v.version for v in world.services.data("check").list("alpha-data")] == [1]
    assert world.services.validation("check").list_results("alpha-data:1") == []
    assert world.services.registry("check").get_model("alpha-model").latest_version == 1


def test_a_new_object_cannot_be_created_in_a_project_the_caller_has_no_role_in(world: World) -> None:
    mallory = world.as_("mallory")
    _refused(world.http.post("/api/v1/experiments", json={"name": "sneaky", "project": "alpha"}, headers=mallory))
    _refused(world.http.post("/api/2.0/mlflow/experiments/create", json={"name": "sneaky2", "tags": [{"key": "steward.project", "value": "alpha"}]}, headers=mallory))
    _refused(world.http.post("/api/v1/models", json={"name": "sneaky-model", "project": "alpha"}, headers=mallory))
    assert world.services.tracking("check").get_experiment_by_name("sneaky") is None
    # in its own project the same request works, and the object lands there
    made = world.http.post("/api/v1/experiments", json={"name": "fine", "project": "beta"}, headers=mallory)
    assert made.status_code == 201 and made.json()["project"] == "beta"
    created = world.http.post("/api/2.0/mlflow/experiments/create", json={"name": "fine2", "tags": [{"key": "steward.project", "value": "beta"}]}, headers=mallory)
    assert created.status_code == 200, created.text
    assert world.services.tracking("check").get_experiment_by_name("fine2").project == "beta"  # type: ignore[union-attr]

