"""The rollout controller against a real store: it advances on healthy stats, rolls back by
itself on a failing or slow candidate within one interval, records the evidence, and two
controllers on one PostgreSQL deployment never both act."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from deployments_testing import Versions, register_versions, report, window

from steward import Client, Settings
from steward.serving import run_controller
from steward.serving._controller import RolloutController
from steward.wiring import Services

INTERVAL = 1.0
POLICY = "steps: [10, 50, 100]\nmin_requests: 50\nmin_duration: 0s\nrollback_min_requests: 20\n"


@pytest.fixture
def fast(settings: Settings, services: Services) -> Services:
    """The services with a controller that looks every INTERVAL seconds."""
    return Services(settings.model_copy(update={"rollout_interval": INTERVAL}), services.store, services.blobs)


@pytest.fixture
def versions(settings: Settings, services: Services) -> Versions:
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        found = register_versions(client, services, count=2)
    finally:
        client.close()
    services.deployments("dana").create_deployment("fraud-api", "fraud:1")
    return found


@pytest.fixture
def controller(fast: Services, versions: Versions) -> Iterator[threading.Event]:
    """A controller running in a thread, as a serving worker runs it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_controller, args=(fast, "fraud-api", stop), daemon=True)
    thread.start()
    yield stop
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _healthy(services: Services, *, primary_errors: int = 0) -> None:
    plan = services.deployments("x").get_plan("fraud-api")
    report(services, [
        window("fraud-api", plan.revision, "primary", "fraud:1", requests=500, errors=primary_errors, ms=4),
        window("fraud-api", plan.revision, "candidate", "fraud:2", requests=60, ms=4),
    ])


def test_a_healthy_candidate_is_advanced_step_by_step_then_promoted(fast: Services, versions: Versions) -> None:
    deploy = fast.deployments("dana")
    deploy.start_rollout("fraud-api", "fraud:2", POLICY, reason="release 2")
    ctl = RolloutController(fast, "fraud-api", holder="test-holder")
    assert ctl.step(INTERVAL) is not None and ctl.step(INTERVAL).action.value == "hold"  # no stats yet
    _healthy(fast)
    assert ctl.step(INTERVAL).action.value == "advance"
    assert {v.name: v.weight for v in deploy.get_plan("fraud-api").variants} == {"primary": 50.0, "candidate": 50.0}
    # the windows of the earlier step do not count for the new one
    assert ctl.step(INTERVAL).action.value == "hold"
    _healthy(fast)
    assert ctl.step(INTERVAL).action.value == "promote"
    final = deploy.get_deployment("fraud-api")
    assert {v.name: (v.model, v.weight) for v in final.plan.variants} == {"primary": ("fraud:2", 100.0), "previous": ("fraud:1", 0.0)}
    assert final.status == "serving" and final.rollout is not None and final.rollout["state"] == "promoted"
    history = deploy.list_history("fraud-api")
    assert [h.action for h in history] == ["rollout.promote", "rollout.advance", "rollout.start", "create"]
    assert history[1].actor == "steward-controller" and history[1].details["controller"] == "test-holder"
    assert history[1].details["evidence"]["candidate"]["requests"] == 60
    audit = [(e.action, e.actor) for e in fast.store.list_audit(target="deployments:/fraud-api")]
    assert audit[-2:] == [("deployments.rollout.advance", "steward-controller"), ("deployments.rollout.promote", "steward-controller")]


@pytest.mark.parametrize(("errors", "ms", "words"), [(30, 4, "error rate"), (0, 800, "p99 latency")], ids=["failing", "slow"])
def test_a_bad_candidate_is_rolled_back_by_itself_within_one_interval(
    fast: Services, versions: Versions, controller: threading.Event, errors: int, ms: float, words: str
) -> None:
    deploy = fast.deployments("dana")
    deploy.start_rollout("fraud-api", "fraud:2", POLICY)
    time.sleep(INTERVAL * 1.5)  # the controller holds the lease and has looked (no stats: hold)
    plan = deploy.get_plan("fraud-api")
    report(fast, [
        window("fraud-api", plan.revision, "primary", "fraud:1", requests=400, ms=4),
        window("fraud-api", plan.revision, "candidate", "fraud:2", requests=40, errors=errors, ms=ms),
    ])
    breach = time.monotonic()
    while deploy.get_deployment("fraud-api").status == "rolling_out" and time.monotonic() - breach < 5 * INTERVAL:
        time.sleep(0.02)
    took = time.monotonic() - breach
    after = deploy.get_deployment("fraud-api")
    assert after.status == "rolled_back", after
    assert took <= INTERVAL + 0.2, f"rollback took {took:.2f} s with a {INTERVAL} s interval"
    assert {v.name: v.weight for v in after.plan.variants} == {"primary": 100.0}
    assert words in after.reason
    [entry] = [h for h in deploy.list_history("fraud-api") if h.action == "rollout.rollback"]
    evidence = entry.details["evidence"]
    assert evidence["candidate"]["requests"] == 40 and evidence["breaches"]
    audit = fast.store.list_audit(target="deployments:/fraud-api")[-1]
    assert audit.action == "deployments.rollout.rollback" and audit.details["evidence"] == evidence


def test_only_the_lease_holder_acts_and_another_takes_over_after_expiry(fast: Services, versions: Versions) -> None:
    deploy = fast.deployments("dana")
    deploy.start_rollout("fraud-api", "fraud:2", POLICY)
    first, second = RolloutController(fast, "fraud-api", holder="one"), RolloutController(fast, "fraud-api", holder="two")
    _healthy(fast)
    assert first.step(0.5) is not None and first.holding
    assert second.step(0.5) is None and not second.holding  # "one" holds it for 1.5 s
    time.sleep(1.6)  # "one" died without renewing
    _healthy(fast)
    assert second.step(0.5) is not None and second.holding
    assert first.step(0.5) is None and not first.holding


def test_two_controllers_on_one_postgresql_deployment_never_both_act(pg_url: str, tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    settings = Settings(home=root / "home", database_url=pg_url, artifact_root=str(root / "artifacts"), user="tester",
                        capture_git=False, auth="off", rollout_interval=0.2)
    replicas = [Services(settings, *_open(settings)) for _ in range(2)]
    client = Client(settings.model_copy(update={"capture_packages": False}))
    register_versions(client, replicas[0], count=2)
    client.close()
    deploy = replicas[0].deployments("dana")
    deploy.create_deployment("fraud-api", "fraud:1")
    policy = "steps: [10, 20, 30, 40, 50, 60, 100]\nmin_requests: 50\nmin_duration: 0s\n"
    deploy.start_rollout("fraud-api", "fraud:2", policy)
    stop = threading.Event()
    threads = [threading.Thread(target=run_controller, args=(r, "fraud-api", stop), daemon=True) for r in replicas]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while deploy.get_deployment("fraud-api").status == "rolling_out" and time.monotonic() < deadline:
            _healthy(replicas[1])  # both replicas' serving processes report; each window counts once
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    history = list(reversed(deploy.list_history("fraud-api", max_results=100)))
    actions = [h.action for h in history]
    assert actions == ["create", "rollout.start", *["rollout.advance"] * 5, "rollout.promote"]
    # every revision was applied exactly once, each by the controller holding the lease then
    assert [h.revision for h in history] == list(range(1, len(history) + 1))
    steps = [h.details["percent"] for h in history if h.action == "rollout.advance"]
    assert steps == [20.0, 30.0, 40.0, 50.0, 60.0]
    holders = {h.details["controller"] for h in history if h.action.startswith("rollout.") and h.action != "rollout.start"}
    assert len(holders) == 1
    for r in replicas:
        r.close()


def _open(settings: Settings) -> tuple[object, object]:
    from steward.adapters.artifacts import ContentAddressedStore
    from steward.adapters.sql import SqlStore

    return SqlStore(settings.resolved_database_url()), ContentAddressedStore(settings.resolved_artifact_root())


def test_the_quality_hook_feeds_a_policy_quality_bound(fast: Services, versions: Versions) -> None:
    from steward.adapters.sql._deployment_store import SqlDeploymentStore
    from steward.core.rollout import QualityObservation
    from steward.serving import DeploymentService

    asked: list[tuple[str, str]] = []

    def quality(deployment: str, metric: str, since_ms: int) -> QualityObservation:
        asked.append((deployment, metric))
        return QualityObservation(metric, 0.9, 0.7, 1000, 1000)

    deploy = DeploymentService(SqlDeploymentStore(fast.store), fast.registry("x"), "x", quality=quality)
    deploy.start_rollout("fraud-api", "fraud:2", POLICY + "quality: {metric: accuracy, max_drop: 0.05}\n")
    _healthy(fast)
    assert fast.deployments("x").store.acquire_lease("fraud-api", "q", 0, 10**15)
    decision = deploy.tick_rollout("fraud-api", "q")
    assert decision is not None and decision.action.value == "rollback" and asked == [("fraud-api", "accuracy")]


def test_without_a_rollout_the_holder_keeps_an_hour_of_stats(fast: Services, versions: Versions) -> None:
    from steward.tracking import now_ms

    deploy = fast.deployments("x")
    now = now_ms()
    report(fast, [
        window("fraud-api", 1, "primary", "fraud:1", requests=5, end_ms=now - 2 * 3_600_000),
        window("fraud-api", 1, "primary", "fraud:1", requests=7, end_ms=now - 60_000),
    ])
    assert RolloutController(fast, "fraud-api", holder="h").step(INTERVAL) is None
    assert [w.requests for w in deploy.store.stats_since("fraud-api", 1, 0)] == [7]
