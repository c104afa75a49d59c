"""Stewardship over REST with authentication on: who may set an owner, retire a version and
record a rollback drill. A viewer and another project's contributor are refused (403, audited
as denied); a deployer of the model's project retires and drills; retiring a serving version
is 409 naming the deployment; bad bodies are a 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.wiring import Services

STAGE = {"action": "models.retrain.start", "details": {"stage": "start", "data": "datasets:/fraud/1"}}
DRILL = {"started_at": 1000, "serving": "fraud:2", "rehearsed": "fraud:1", "rollback_ms": 80, "restore_ms": 70, "requests": 50, "failed": 0, "passed": True}


@pytest.fixture
def world(settings: Settings, services: Services, sync_asgi_transport: Any) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    from sklearn.linear_model import LogisticRegression

    from steward.server import create_app

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        with client.start_run("stewardship-api") as run:
            for _ in range(2):
                run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    finally:
        client.close()
    registry = services.registry("reviewer")
    for v in (1, 2):
        registry.approve("fraud", v, comment="reviewed")
    registry.set_alias("fraud", "champion", 1)
    services.deployments("deployer").create_deployment("fraud-api", "fraud:1")
    services.deployments("deployer").canary("fraud-api", "fraud:2", percent=10)
    gov = services.governance("setup")
    tokens = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
    for user, project, role in [("vic", "fraud", "viewer"), ("cara", "fraud", "contributor"), ("dora", "fraud", "deployer"), ("otto", "other", "contributor")]:
        gov.create_user(user, f"{user}@example.com")
        gov.grant_role(user, project, role)
        tokens[user] = gov.create_token(user, scopes=("read", "write")).secret
    app = create_app(settings.model_copy(update={"auth": "on"}), services)
    transport = sync_asgi_transport(app)
    with httpx.Client(transport=transport, base_url="http://steward.test") as api:
        yield api, {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    transport.close()


@pytest.mark.parametrize("user", ["vic", "otto"])
def test_a_viewer_and_another_projects_contributor_cannot_retire_drill_or_set_the_owner(world: Any, services: Services, user: str) -> None:
    api, auth = world
    attempts = [
        api.put("/api/v1/models/fraud/owner", json={"owner": user}, headers=auth[user]),
        api.post("/api/v1/models/fraud/versions/2/retire", json={"drain": True}, headers=auth[user]),
        api.post("/api/v1/deployments/fraud-api/drills", json=DRILL, headers=auth[user]),
        api.post("/api/v1/models/fraud/lifecycle-stages", json=STAGE, headers=auth[user]),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403], [r.text for r in attempts]
    assert all(r.json()["error"]["code"] == "PERMISSION_DENIED" for r in attempts)
    assert services.registry("t").get_version("fraud", 2).state.value == "approved"
    assert services.stewardship("t").last_drill("fraud-api") is None
    denied = [e for e in services.store.list_audit() if e.action == "auth.denied" and e.actor == user]
    assert len(denied) >= 4
    assert not [e for e in services.store.list_audit() if e.action.startswith("models.retrain")]
    read = api.get("/api/v1/models/fraud/owner", headers=auth[user])
    assert read.status_code == (200 if user == "vic" else 403)


def test_a_contributor_sets_the_owner_but_only_a_deployer_retires(world: Any) -> None:
    api, auth = world
    set_ = api.put("/api/v1/models/fraud/owner", json={"owner": "alice", "on_call": "ops@example.com"}, headers=auth["cara"])
    assert set_.status_code == 200 and set_.json()["owner"] == "alice" and set_.json()["updated_by"] == "cara"
    assert api.post("/api/v1/models/fraud/versions/2/retire", json={}, headers=auth["cara"]).status_code == 403
    serving = api.post("/api/v1/models/fraud/versions/2/retire", json={}, headers=auth["dora"])
    assert serving.status_code == 409 and "fraud-api" in serving.json()["error"]["message"]
    drained = api.post("/api/v1/models/fraud/versions/2/retire", json={"drain": True, "comment": "lost the A/B"}, headers=auth["dora"])
    assert drained.status_code == 200, drained.text
    assert drained.json()["drained"] == ["fraud-api"] and drained.json()["retired_by"] == "dora"
    record = api.get("/api/v1/models/fraud/versions/2/retirement", headers=auth["vic"])
    assert record.status_code == 200 and record.json()["served"][0]["variant"] == "candidate"
    timeline = api.get("/api/v1/models/fraud/timeline", headers=auth["vic"]).json()["events"]
    assert [e["kind"] for e in timeline][-3:] == ["deployment rollback", "retired", "retirement recorded"]


def test_a_deployer_records_a_drill_and_bad_bodies_name_the_field(world: Any) -> None:
    api, auth = world
    stored = api.post("/api/v1/deployments/fraud-api/drills", json=DRILL, headers=auth["dora"])
    assert stored.status_code == 201 and stored.json()["actor"] == "dora"
    last = api.get("/api/v1/deployments/fraud-api/drills/last", headers=auth["vic"])
    assert last.status_code == 200 and last.json()["drill"]["id"] == stored.json()["id"]
    bad = api.post("/api/v1/deployments/fraud-api/drills", json={**DRILL, "rollback_ms": -1}, headers=auth["dora"])
    assert bad.status_code in (400, 422) and "rollback_ms" in bad.text
    owner = api.put("/api/v1/models/fraud/owner", json={"owner": "bad name!"}, headers=auth["root"])
    assert owner.status_code in (400, 422) and owner.json()["error"]["field"] == "owner"
    missing = api.post("/api/v1/models/fraud/versions/9/retire", json={}, headers=auth["root"])
    assert missing.status_code == 404


def test_draining_needs_deployments_write_on_every_deployment_it_changes(world: Any, services: Services) -> None:
    import sqlalchemy as sa

    api, auth = world
    services.deployments("deployer").create_deployment("other-api", "fraud:1")
    services.deployments("deployer").canary("other-api", "fraud:2", percent=5)
    with services.store.write() as conn:  # a deployment another project runs (its team took it over)
        conn.execute(sa.text("UPDATE deployments SET project = 'other' WHERE name = 'other-api'"))
    refused = api.post("/api/v1/models/fraud/versions/2/retire", json={"drain": True}, headers=auth["dora"])
    assert refused.status_code == 403, refused.text
    assert "deployments.write" in refused.json()["error"]["message"]
    variants = {v.name: v.model for v in services.deployments("t").get_deployment("fraud-api").plan.variants}
    assert variants.get("candidate") == "fraud:2"  # nothing was drained
    assert services.registry("t").get_version("fraud", 2).state.value == "approved"
    done = api.post("/api/v1/models/fraud/versions/2/retire", json={"drain": True}, headers=auth["root"])
    assert done.status_code == 200 and sorted(done.json()["drained"]) == ["fraud-api", "other-api"]


def test_a_contributor_records_lifecycle_stages_and_nothing_else_through_that_route(world: Any, services: Services) -> None:
    """`steward retrain` through a server records its stages with this route: the models.retrain.*
    actions only, on a model or version that exists, as the token's user."""
    api, auth = world
    ok = api.post("/api/v1/models/fraud/lifecycle-stages", json={**STAGE, "version": 2}, headers=auth["cara"])
    assert ok.status_code == 204, ok.text
    recorded = [e for e in services.store.list_audit() if e.action == "models.retrain.start"]
    assert [(e.actor, e.target, e.details["data"]) for e in recorded] == [("cara", "models:/fraud/2", "datasets:/fraud/1")]
    forged = api.post("/api/v1/models/fraud/lifecycle-stages", json={**STAGE, "action": "models.approve"}, headers=auth["cara"])
    assert forged.status_code == 422 and "action" in forged.text
    assert api.post("/api/v1/models/fraud/lifecycle-stages", json={**STAGE, "version": 99}, headers=auth["cara"]).status_code == 404
    assert api.post("/api/v1/models/nope/lifecycle-stages", json=STAGE, headers=auth["cara"]).status_code in (403, 404)
    huge = api.post("/api/v1/models/fraud/lifecycle-stages", json={**STAGE, "details": {"x": "y" * 30_000}}, headers=auth["cara"])
    assert huge.status_code == 422 and "details" in huge.text
    unknown_field = api.post("/api/v1/models/fraud/lifecycle-stages", json={**STAGE, "actor": "root"}, headers=auth["cara"])
    assert unknown_field.status_code == 422 and "actor" in unknown_field.text
    # a forged user header without a token is not a caller
    assert api.post("/api/v1/models/fraud/lifecycle-stages", json=STAGE, headers={"X-Steward-User": "root"}).status_code == 401
    assert len([e for e in services.store.list_audit() if e.action.startswith("models.retrain")]) == 1
