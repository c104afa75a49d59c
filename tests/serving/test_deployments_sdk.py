"""``steward.deployments`` embedded and against a real ``steward server`` process: the same calls, the same answers."""

from __future__ import annotations

import pytest
from deployments_testing import Versions, register_versions

from steward import Client, Settings, deployments
from steward.errors import ConflictError, NotFoundError
from steward.wiring import Services


@pytest.fixture
def versions(settings: Settings, services: Services) -> Versions:
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        return register_versions(client, services)
    finally:
        client.close()


def _tour(cfg: Settings, versions: Versions) -> None:
    created = deployments.create("fraud-api", "fraud@champion", reason="launch", settings=cfg)
    assert [(v.name, v.model) for v in created.plan.variants] == [("primary", "fraud:1")]
    deployments.canary("fraud-api", "fraud:2", percent=10, settings=cfg)
    deployments.ab("fraud-api", "fraud:2", split=30, sticky_key="customer_id", settings=cfg)
    assert deployments.get("fraud-api", settings=cfg).plan.sticky_key == "customer_id"
    deployments.shadow("fraud-api", "fraud:2", settings=cfg)
    deployments.switch("fraud-api", "fraud:2", settings=cfg)
    assert deployments.rollback("fraud-api", reason="back", settings=cfg).plan.variants[0].model == "fraud:1"
    started = deployments.rollout("fraud-api", "fraud:2", policy="steps: [20, 100]\nmin_requests: 10\n", settings=cfg)
    assert started.status == "rolling_out"
    assert deployments.rollout_status("fraud-api", settings=cfg)["next"]["action"] == "hold"
    promoted = deployments.promote("fraud-api", reason="early", settings=cfg)
    assert promoted.plan.variants[0].model == "fraud:2" and promoted.rollout is not None and promoted.rollout["state"] == "promoted"
    assert [d.name for d in deployments.list(settings=cfg)] == ["fraud-api"]
    assert deployments.history("fraud-api", settings=cfg)[0].action == "promote"
    with pytest.raises(ConflictError, match="retired"):
        deployments.canary("fraud-api", f"fraud:{versions.retired}", percent=5, settings=cfg)
    deployments.delete("fraud-api", settings=cfg)
    with pytest.raises(NotFoundError):
        deployments.get("fraud-api", settings=cfg)


def test_the_sdk_works_on_the_embedded_store(settings: Settings, versions: Versions) -> None:
    _tour(settings, versions)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_sdk_works_against_a_server_with_the_same_errors(settings: Settings, versions: Versions, live_server: object) -> None:
    _tour(Settings(tracking_uri=live_server.url, user="remote-user"), versions)  # type: ignore[attr-defined]
