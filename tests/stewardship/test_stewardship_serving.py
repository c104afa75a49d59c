"""With a real ``steward serve`` process answering traffic: a rollback drill switches the live
deployment to its previous version and back with no failed request and records the timings on
the timeline; and the server killed in the middle of a progressive rollout and started again
resumes the rollout from the stored plan to its end, the deployment never half-switched."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from stewardship_testing import (
    FEATURES,
    ROLLOUT,
    SERVE_ENV,
    ServeProcess,
    Traffic,
    fraud_frame,
    register_model,
    store_env,
    store_settings,
)
from typer.testing import CliRunner

from steward import Settings
from steward.cli import app
from steward.serving import Deployment
from steward.wiring import Services, build_services

pytestmark = pytest.mark.slow


@dataclass
class World:
    settings: Settings
    services: Services
    env: dict[str, str]
    rows: list[dict[str, object]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path)
    frame = fraud_frame()
    for c in (1.0, 0.5):
        register_model(settings, LogisticRegression(C=c, max_iter=500).fit(frame[FEATURES], frame["label"]), frame)
    services = build_services(settings)
    registry = services.registry("reviewer")
    for v in (1, 2):
        registry.approve("fraud", v, comment="reviewed")
    registry.set_alias("fraud", "champion", 1)
    services.deployments("deployer").create_deployment("fraud-api", "fraud:1")
    try:
        yield World(settings, services, {**store_env(settings), **SERVE_ENV}, frame[FEATURES].head(20).to_dict("records"))
    finally:
        services.close()


def test_a_rollback_drill_on_a_live_deployment_switches_back_and_forth_with_no_failed_request(world: World) -> None:
    w = world
    w.services.deployments("deployer").switch("fraud-api", "fraud:2", reason="fraud:2 takes over")
    server = ServeProcess("fraud-api", w.env)
    try:
        result = CliRunner().invoke(
            app, ["deploy", "drill", "fraud-api", "--url", server.url, "--payload", json.dumps([w.rows[0]]), "--json"],
            env={**w.env, "STEWARD_USER": "oncall", "NO_COLOR": "1"},
        )
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    drill = json.loads(result.stdout)
    assert drill["passed"] is True and drill["failed"] == 0 and drill["requests"] > 10
    assert (drill["serving"], drill["rehearsed"], drill["actor"]) == ("fraud:2", "fraud:1", "oncall")
    assert 0 < drill["rollback_ms"] < 30_000 and 0 < drill["restore_ms"] < 30_000
    plan = w.services.deployments("t").get_deployment("fraud-api")
    assert [(v.name, v.model, v.weight) for v in plan.plan.variants] == [("primary", "fraud:2", 100.0), ("previous", "fraud:1", 0.0)]
    events = w.services.timeline().get_timeline("fraud").events
    kinds = [e.kind for e in events]
    assert kinds[-3:] == ["deployment switch", "deployment switch", "rollback drill"]
    assert events[-1].details["rollback_ms"] == drill["rollback_ms"]
    assert w.services.stewardship("t").last_drill("fraud-api").id == drill["id"]


def test_a_drill_is_refused_when_there_is_no_previous_version(world: World) -> None:
    result = CliRunner().invoke(app, ["deploy", "drill", "fraud-api"], env={**world.env, "NO_COLOR": "1"})
    assert result.exit_code == 5 and "no previous version" in result.output


def _consistent(d: Deployment) -> None:
    """Never half-switched: the weights add up, and the plan is a rollout's or a single primary's."""
    live = [v for v in d.plan.variants if not v.shadow]
    assert abs(sum(v.weight for v in live) - 100.0) < 1e-6, d.to_dict()
    names = sorted(v.name for v in live if v.weight > 0)
    if d.status == "rolling_out":
        assert names in (["candidate", "primary"], ["candidate"]), d.to_dict()
        candidate = d.variant("candidate")
        assert candidate is not None and d.rollout is not None
        assert candidate.weight == d.rollout["steps"][d.rollout["step"]], d.to_dict()
    else:
        assert names == ["primary"], d.to_dict()


def test_a_server_killed_in_the_middle_of_a_rollout_resumes_it_after_a_restart(world: World) -> None:
    w = world
    deployments = w.services.deployments("deployer")
    server = ServeProcess("fraud-api", w.env)
    seen: list[Deployment] = []
    try:
        with Traffic(server.url, w.rows) as first:
            deployments.start_rollout("fraud-api", "fraud:2", ROLLOUT, reason="retrained")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                d = deployments.get_deployment("fraud-api")
                seen.append(d)
                if d.rollout and int(d.rollout["step"]) >= 1:
                    break
                time.sleep(0.1)
        assert d.rollout and int(d.rollout["step"]) >= 1 and d.status == "rolling_out", d.to_dict()
        assert first.answers["2"] > 0
        server.kill()  # SIGKILL in the middle of the rollout: no graceful stop, the lease is not released
        killed_at = deployments.get_deployment("fraud-api")
        _consistent(killed_at)
        assert killed_at.status == "rolling_out"
        server = ServeProcess("fraud-api", w.env, port=server.port)
        with Traffic(server.url, w.rows) as second:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                d = deployments.get_deployment("fraud-api")
                seen.append(d)
                if d.status != "rolling_out":
                    break
                time.sleep(0.1)
        assert second.failures == [], second.failures[:5]
    finally:
        server.stop()
    for d in seen:
        _consistent(d)
    final = deployments.get_deployment("fraud-api")
    assert final.status == "serving" and final.rollout is not None and final.rollout["state"] == "promoted", final.to_dict()
    assert final.variant("primary") is not None and final.variant("primary").model == "fraud:2"  # type: ignore[union-attr]
    history = list(reversed(deployments.list_history("fraud-api", max_results=100)))
    actions = [h.action for h in history]
    assert actions[0] == "create" and actions[1] == "rollout.start" and actions[-1] == "rollout.promote"
    holders = [h.details.get("controller") for h in history if h.action in ("rollout.advance", "rollout.promote")]
    assert len(set(holders)) >= 2, holders  # the restarted server's controller took the lease over and finished
