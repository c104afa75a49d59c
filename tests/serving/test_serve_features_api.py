"""REST: a deployment declares the features its requests are completed with (SQLite and
PostgreSQL metadata). Attacks: another project's deployer and contributor cannot deploy with,
or switch a deployment to, this project's feature views; a viewer cannot declare any."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.server import create_app
from steward.wiring import Services, build_services

NOW = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the source


def _register(settings: Settings, project: str, name: str) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"amount": rng.normal(size=40), "txn_count": rng.integers(0, 5, 40).astype(float)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(settings.model_copy(update={"project": project}))
    try:
        with client.start_run(f"{project}-training") as run:
            run.log_model(model, name, input_example=frame.head(3), registered_model_name=name)
    finally:
        client.close()


class World:
    def __init__(self, settings: Settings, root: Path, transport: Any) -> None:  # Any: SyncASGITransport class
        self.settings = settings.model_copy(update={"auth": "on", "user": "server"})
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, grants in {
            "dave": [("alpha", "deployer"), ("alpha", "contributor")],
            "mallory": [("beta", "deployer"), ("beta", "contributor")],
            "vera": [("alpha", "viewer")],
        }.items():
            gov.create_user(name, f"{name}@example.com")
            for project, role in grants:
                gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name).secret
        source = root / "alpha_stats.parquet"
        pd.DataFrame({"customer_id": [1], "ts": [NOW - timedelta(hours=1)], "txn_count": [3.0]}).to_parquet(source, index=False)
        view = FeatureView(
            "alpha_stats", entities=(Entity("customer", join_keys=("customer_id",)),), features=(Feature("txn_count", "float64"),),
            source=FeatureSource("parquet", str(source), event_time="ts"), ttl="30d",
        )
        self.services.features("setup").apply([view], project="alpha")
        _register(self.settings, "alpha", "alpha_model")
        _register(self.settings, "beta", "beta_model")
        registry = self.services.registry("reviewer")
        registry.approve("alpha_model", 1, comment="ok")
        registry.approve("beta_model", 1, comment="ok")
        self._transport = transport(create_app(self.settings, self.services))
        self.http = httpx.Client(transport=self._transport, base_url="http://steward.test")

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        return self.http.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def close(self) -> None:
        self.http.close()
        self._transport.close()
        self.services.close()


@pytest.fixture(scope="module")
def world(shared_settings: Settings, tmp_path_factory: pytest.TempPathFactory, sync_asgi_transport: Any) -> Iterator[World]:
    w = World(shared_settings, tmp_path_factory.mktemp("serve-features-api"), sync_asgi_transport)
    yield w
    w.close()


def _error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:  # Any: JSON
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()["error"]
    assert body["code"] == code
    return body


def test_a_deployer_declares_their_projects_features_and_reads_them_back(world: World) -> None:
    created = world.call("dave", "POST", "/deployments", json={
        "name": "alpha-api", "model": "alpha_model:1", "features": ["alpha_stats:txn_count"]})
    assert created.status_code == 201, created.text
    assert created.json()["features"] == ["alpha_stats:txn_count"] and created.json()["project"] == "alpha"
    assert world.call("vera", "GET", "/deployments/alpha-api").json()["features"] == ["alpha_stats:txn_count"]
    listed = {d["name"]: d["features"] for d in world.call("vera", "GET", "/deployments").json()["deployments"]}
    assert listed["alpha-api"] == ["alpha_stats:txn_count"]
    cleared = world.call("dave", "PUT", "/deployments/alpha-api/features", json={"features": []})
    assert cleared.status_code == 200 and cleared.json()["features"] == []
    again = world.call("dave", "PUT", "/deployments/alpha-api/features", json={"features": ["alpha_stats:txn_count"], "reason": "back"})
    assert again.json()["features"] == ["alpha_stats:txn_count"]


def test_another_projects_deployer_cannot_deploy_with_this_projects_views(world: World) -> None:
    refused = world.call("mallory", "POST", "/deployments", json={
        "name": "beta-api", "model": "beta_model:1", "features": ["alpha_stats:txn_count"]})
    _error(refused, 403, "PERMISSION_DENIED")
    # the same deployment without alpha's views is theirs to create: the views were the refusal
    plain = world.call("mallory", "POST", "/deployments", json={"name": "beta-api", "model": "beta_model:1"})
    assert plain.status_code == 201, plain.text
    # nor may they switch their deployment over to alpha's views afterwards
    _error(world.call("mallory", "PUT", "/deployments/beta-api/features", json={"features": ["alpha_stats:txn_count"]}),
           403, "PERMISSION_DENIED")
    assert world.call("mallory", "GET", "/deployments/beta-api").json()["features"] == []
    # and cannot read the views' values directly either
    _error(world.call("mallory", "POST", "/features/online", json={
        "features": ["alpha_stats:txn_count"], "entities": [{"customer_id": 1}]}), 403, "PERMISSION_DENIED")


def test_a_viewer_cannot_declare_features(world: World) -> None:
    _error(world.call("vera", "PUT", "/deployments/alpha-api/features", json={"features": []}), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(("features", "status", "field", "text"), [
    (["nope:txn_count"], 404, "features", "unknown feature views: nope"),
    (["alpha_stats:nothing"], 422, "features", "unknown features: alpha_stats:nothing"),
    (["alpha_stats"], 422, "features", "not view:feature"),
    ("alpha_stats:txn_count", 422, "features", ""),
])
def test_bad_declarations_are_a_4xx_naming_the_field(world: World, features: Any, status: int, field: str, text: str) -> None:  # Any: JSON
    resp = world.call("dave", "POST", "/deployments", json={"name": "alpha-bad", "model": "alpha_model:1", "features": features})
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error.get("field", "").split(".")[0] == field and text in error["message"]
    assert world.call("dave", "GET", "/deployments/alpha-bad").status_code == 404
