"""The deployments REST API with authentication on: who may change traffic (deployer, admin,
of the deployment's project only), refusals with their reasons, bad input, and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from deployments_testing import Versions, register_versions

from steward import Client, Settings
from steward.wiring import Services

ALL_SCOPES = ("read", "write", "admin")


@pytest.fixture
def world(settings: Settings, services: Services, sync_asgi_transport: Any) -> Iterator[tuple[httpx.Client, dict[str, str], Versions]]:
    from steward.server import create_app

    client = Client(settings.model_copy(update={"capture_packages": False}))
    versions = register_versions(client, services)
    client.close()
    gov = services.governance("setup")
    tokens = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
    for user, project, role in [
        ("alice", "fraud", "deployer"),
        ("carl", "fraud", "contributor"),
        ("vic", "fraud", "viewer"),
        ("otto", "other", "deployer"),
    ]:
        gov.create_user(user, f"{user}@example.com")
        gov.grant_role(user, project, role)
        tokens[user] = gov.create_token(user, scopes=ALL_SCOPES).secret
    headers = {u: f"Bearer {t}" for u, t in tokens.items()}
    app = create_app(settings.model_copy(update={"auth": "on"}), services)
    transport = sync_asgi_transport(app)
    with httpx.Client(transport=transport, base_url="http://steward.test") as api:
        created = api.post(
            "/api/v1/deployments", json={"name": "fraud-api", "model": "fraud@champion", "reason": "launch"},
            headers={"Authorization": headers["root"]},
        )
        assert created.status_code == 201, created.text
        yield api, headers, versions
    transport.close()


def _as(headers: dict[str, str], user: str) -> dict[str, str]:
    return {"Authorization": headers[user]}


def test_a_deployer_of_the_project_changes_traffic_and_it_is_audited(world: Any, services: Services) -> None:
    api, headers, _ = world
    resp = api.post("/api/v1/deployments/fraud-api/canary", json={"model": "fraud:2", "percent": 10, "reason": "canary"}, headers=_as(headers, "alice"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["revision"] == 2 and body["mode"] == "canary" and body["updated_by"] == "alice"
    assert {v["name"]: v["weight"] for v in body["variants"]} == {"primary": 90.0, "candidate": 10.0}
    history = api.get("/api/v1/deployments/fraud-api/history", headers=_as(headers, "vic")).json()["history"]
    assert [(h["action"], h["actor"], h["reason"]) for h in history] == [("canary", "alice", "canary"), ("create", "root", "launch")]
    entries = services.store.list_audit(target="deployments:/fraud-api")
    assert [(e.action, e.actor) for e in entries] == [("deployments.create", "root"), ("deployments.canary", "alice")]
    assert entries[-1].details["reason"] == "canary"


@pytest.mark.parametrize("user", ["carl", "vic", "otto"])
def test_contributors_viewers_and_deployers_of_other_projects_cannot_change_traffic(world: Any, services: Services, user: str) -> None:
    api, headers, _ = world
    before = api.get("/api/v1/deployments/fraud-api", headers=_as(headers, "root")).json()
    attempts = [
        ("/api/v1/deployments/fraud-api/canary", {"model": "fraud:2", "percent": 50}),
        ("/api/v1/deployments/fraud-api/switch", {"model": "fraud:2"}),
        ("/api/v1/deployments/fraud-api/rollback", {}),
    ]
    for path, body in attempts:
        resp = api.post(path, json=body, headers=_as(headers, user))
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["error"]["code"] == "PERMISSION_DENIED"
    assert api.delete("/api/v1/deployments/fraud-api", headers=_as(headers, user)).status_code == 403
    assert api.get("/api/v1/deployments/fraud-api", headers=_as(headers, "root")).json() == before
    denials = [e for e in services.store.list_audit() if e.action == "auth.denied" and e.actor == user]
    assert len(denials) >= len(attempts) + 1
    assert all("deployments.write" in str(e.details.get("reason")) for e in denials)
    changes = [e.action for e in services.store.list_audit(target="deployments:/fraud-api")]
    assert changes == ["deployments.create"]


def test_a_deployer_of_another_project_cannot_create_a_deployment_of_this_model(world: Any) -> None:
    api, headers, _ = world
    resp = api.post("/api/v1/deployments", json={"name": "sneaky", "model": "fraud:1"}, headers=_as(headers, "otto"))
    assert resp.status_code == 403
    assert api.get("/api/v1/deployments/sneaky", headers=_as(headers, "root")).status_code == 404


def test_listing_shows_only_the_deployments_of_readable_projects(world: Any) -> None:
    api, headers, _ = world
    assert [d["name"] for d in api.get("/api/v1/deployments", headers=_as(headers, "vic")).json()["deployments"]] == ["fraud-api"]
    assert api.get("/api/v1/deployments", headers=_as(headers, "otto")).json()["deployments"] == []


@pytest.mark.parametrize(
    ("attr", "reason"),
    [("retired", "retired"), ("unapproved", "no approval"), ("gate_failed", "failed its gate")],
)
def test_versions_that_may_not_serve_are_refused_with_409_and_the_reason(world: Any, attr: str, reason: str) -> None:
    api, headers, versions = world
    resp = api.post(
        "/api/v1/deployments/fraud-api/canary", json={"model": f"fraud:{getattr(versions, attr)}", "percent": 10}, headers=_as(headers, "alice")
    )
    assert resp.status_code == 409, resp.text
    assert reason in resp.json()["error"]["message"]
    assert api.get("/api/v1/deployments/fraud-api", headers=_as(headers, "alice")).json()["revision"] == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/deployments/fraud-api/canary", {"model": "fraud:2", "percent": 150}, "percent"),
        ("/api/v1/deployments/fraud-api/canary", {"model": "fraud:2"}, "percent"),
        ("/api/v1/deployments/fraud-api/ab", {"model": "fraud:2", "split": 50, "sticky_key": "a b"}, "sticky_key"),
        ("/api/v1/deployments/fraud-api/switch", {"model": "fraud:2", "extra": 1}, "extra"),
        ("/api/v1/deployments/fraud-api/rollout", {"model": "fraud:2", "policy": "steps: [50, 20]"}, "policy"),
        ("/api/v1/deployments", {"name": "Bad Name", "model": "fraud:1"}, "name"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(world: Any, path: str, body: dict[str, object], field: str) -> None:
    api, headers, _ = world
    resp = api.post(path, json=body, headers=_as(headers, "alice"))
    assert 400 <= resp.status_code < 500, resp.text
    assert field in (resp.json()["error"].get("field") or "") + resp.json()["error"]["message"]


def test_unknown_deployments_are_404(world: Any) -> None:
    api, headers, _ = world
    assert api.get("/api/v1/deployments/nope", headers=_as(headers, "root")).status_code == 404
    resp = api.post("/api/v1/deployments/nope/promote", json={}, headers=_as(headers, "root"))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"


def test_a_rollout_started_over_rest_reports_its_step_and_evidence(world: Any) -> None:
    api, headers, _ = world
    policy = "steps: [10, 50, 100]\nmin_requests: 5\nmin_duration: 0s\n"
    resp = api.post("/api/v1/deployments/fraud-api/rollout", json={"model": "fraud:2", "policy": policy, "reason": "go"}, headers=_as(headers, "alice"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "rolling_out"
    status = api.get("/api/v1/deployments/fraud-api/rollout", headers=_as(headers, "vic")).json()
    assert status["rollout"]["step"] == 0 and status["rollout"]["candidate"] == "fraud:2"
    assert status["next"]["action"] == "hold" and "0/5 candidate requests" in status["next"]["reason"]
    blocked = api.post("/api/v1/deployments/fraud-api/canary", json={"model": "fraud:2", "percent": 5}, headers=_as(headers, "alice"))
    assert blocked.status_code == 409 and "rollout" in blocked.json()["error"]["message"]
    assert api.post("/api/v1/deployments/fraud-api/rollback", json={"reason": "stop"}, headers=_as(headers, "alice")).json()["status"] == "serving"


def test_delete_by_a_deployer_answers_204(world: Any) -> None:
    api, headers, _ = world
    assert api.delete("/api/v1/deployments/fraud-api", params={"reason": "bye"}, headers=_as(headers, "alice")).status_code == 204
    assert api.get("/api/v1/deployments/fraud-api", headers=_as(headers, "alice")).status_code in (403, 404)
