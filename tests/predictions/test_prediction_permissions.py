"""A prediction log belongs to its deployment's project: reading needs deployments.read there,
attaching labels models.write there (authentication on)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prediction_testing import batch

from steward.adapters.sql._deployment_store import SqlDeploymentStore
from steward.core.traffic import Variant
from steward.serving._ports import PlanChange
from steward.settings import Settings
from steward.tracking import AuditEvent
from steward.wiring import Services

T0 = 1_767_225_600_000


@pytest.fixture
def api(settings: Settings, services: Services, sync_asgi_transport: Any) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    from steward.server import create_app

    store = SqlDeploymentStore(services.store)
    now = int(time.time() * 1000)
    for name, project in (("fraud-api", "fraud"), ("other-api", "other")):
        change = PlanChange("create", "root", "launch", (Variant("primary", f"{project}:1", 100.0),), None, "single", "stable", None)
        store.create_deployment(name, project, change, now, AuditEvent("root", "deployments.create", f"deployments:/{name}", now))
    log = services.prediction_log()
    for i, name in enumerate(("fraud-api", "other-api")):
        log.append(batch(i, T0, deployment=name))
    log.close()
    gov = services.governance("setup")
    tokens = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
    for user, project, role in [("vic", "fraud", "viewer"), ("carl", "fraud", "contributor"), ("alice", "fraud", "deployer")]:
        gov.create_user(user, f"{user}@example.com")
        gov.grant_role(user, project, role)
        tokens[user] = gov.create_token(user, scopes=("read", "write")).secret
    transport = sync_asgi_transport(create_app(settings.model_copy(update={"auth": "on"}), services))
    with httpx.Client(transport=transport, base_url="http://steward.test") as client:
        yield client, {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    transport.close()


def test_reading_the_log_needs_read_access_to_the_deployments_project(api: Any) -> None:
    client, headers = api
    assert client.get("/api/v1/deployments/fraud-api/predictions", headers=headers["vic"]).json()["rows"] == 1
    assert client.get("/api/v1/deployments/fraud-api/prediction-segments", headers=headers["vic"]).status_code == 200
    assert client.get("/api/v1/deployments/other-api/predictions", headers=headers["vic"]).status_code == 403
    assert client.get("/api/v1/deployments/other-api/predictions", headers=headers["root"]).status_code == 200
    assert client.get("/api/v1/deployments/fraud-api/predictions").status_code == 401


@pytest.mark.parametrize(("user", "deployment", "status"), [
    ("carl", "fraud-api", 200), ("root", "other-api", 200),
    ("vic", "fraud-api", 403), ("alice", "fraud-api", 403), ("carl", "other-api", 403),
])
def test_attaching_labels_needs_models_write_on_the_deployments_project(api: Any, user: str, deployment: str, status: int) -> None:
    client, headers = api
    index = 0 if deployment == "fraud-api" else 1
    body = {"labels": [{"request_id": f"req-{index}", "label": 1}]}
    response = client.post(f"/api/v1/deployments/{deployment}/labels", json=body, headers=headers[user])
    assert response.status_code == status, response.text
