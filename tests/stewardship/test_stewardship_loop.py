"""The closed loop end to end on a small dataset: a retraining (manual trigger) validates the
fresh data, trains, gates the new version against the champion on the same data, registers it
as a candidate, waits for its approval, canaries it on the deployment while a real ``steward
serve`` answers traffic, rolls it out and promotes it; every stage is on the model's timeline,
in order. Variants: the retrained model fails its gate, the training step crashes; in both the
champion keeps serving and the timeline says why."""

from __future__ import annotations

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
    register_dataset,
    register_model,
    store_env,
    store_settings,
)

from steward import Settings
from steward.stewardship.lifecycle import RetrainSpec, retrain
from steward.wiring import Services, build_services

pytestmark = pytest.mark.slow

GATE = "min: {accuracy: 0.8}\nbeat_champion: {metric: accuracy, min_delta: 0.01}\n"
SHIFT = 1.5  # the fresh window: amounts moved up; the champion's threshold no longer fits


@dataclass
class World:
    settings: Settings
    services: Services
    fresh: str  # the fresh (drifted) window, registered as a dataset version
    holdout: str


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path)
    old = fraud_frame(seed=0)
    register_dataset(settings, "fraud-train", old, tmp_path / "data")
    champion = LogisticRegression(max_iter=500).fit(old[FEATURES], old["label"])
    assert register_model(settings, champion, old) == 1
    fresh = register_dataset(settings, "fraud-train", fraud_frame(seed=2, shift=SHIFT), tmp_path / "data")
    holdout = register_dataset(settings, "fraud-holdout", fraud_frame(seed=3, shift=SHIFT), tmp_path / "data")
    services = build_services(settings)
    services.validation("tester").infer(fresh, "fraud-checks")  # the model's validation suite
    registry = services.registry("reviewer")
    registry.approve("fraud", 1, comment="the first model")
    registry.transition("fraud", 1, "production")
    registry.set_alias("fraud", "champion", 1)
    services.deployments("deployer").create_deployment("fraud-api", "fraud:1")
    try:
        yield World(settings, services, fresh, holdout)
    finally:
        services.close()


def _spec(w: World, train: str) -> RetrainSpec:
    return RetrainSpec(
        model="fraud", train=f"fraud_training:{train}", data=w.fresh, eval_data=w.holdout, target="label", suite="fraud-checks",
        gate_policy=GATE, deployment="fraud-api", rollout_policy=ROLLOUT, timeout_s=120,
    )


def _story(services: Services) -> list[str]:
    return [e.kind for e in services.timeline().get_timeline("fraud").events]


def _subsequence(wanted: list[str], story: list[str]) -> bool:
    it = iter(story)
    return all(any(kind == w for kind in it) for w in wanted)


def _primary(services: Services) -> str:
    primary = services.deployments("t").get_deployment("fraud-api").variant("primary")
    assert primary is not None
    return primary.model


def test_the_loop_retrains_gates_registers_canaries_and_promotes_with_every_stage_on_the_timeline(world: World) -> None:
    w = world
    first = retrain(w.services, _spec(w, "train"), actor="retrainer")
    assert first.status == "awaiting_approval", first.to_dict()
    assert first.version == 2 and _primary(w.services) == "fraud:1"  # nothing serves it before its approval
    w.services.registry("reviewer").approve("fraud", 2, comment="gate passed on the fresh window")
    rows = fraud_frame(seed=4, shift=SHIFT)[FEATURES].to_dict("records")
    server = ServeProcess("fraud-api", {**store_env(w.settings), **SERVE_ENV})
    try:
        with Traffic(server.url, rows) as traffic:
            done = retrain(w.services, _spec(w, "train"), actor="retrainer", resume=2, poll_s=0.3)
        assert done.status == "promoted", done.to_dict()
        assert traffic.failures == [] and traffic.answers["1"] > 0 and traffic.answers["2"] > 0
    finally:
        server.stop()
    assert _primary(w.services) == "fraud:2"
    assert w.services.registry("t").resolve("fraud@champion").version == 2
    assert w.services.registry("t").get_version("fraud", 1).state.value == "deprecated"
    story = _story(w.services)
    wanted = [
        "retraining started", "data validated", "version registered", "retrained", "gate", "candidate registered",
        "awaiting approval", "approved", "retraining resumed", "canary started", "rollout advanced", "promoted",
        "state changed", "alias set", "retraining ended",
    ]
    assert _subsequence(wanted, story), story
    events = w.services.timeline().get_timeline("fraud").events
    gate = next(e for e in events if e.kind == "gate" and 2 in e.versions)
    assert gate.details.get("passed") is True
    ended = [e for e in events if e.kind == "retraining ended"]
    assert [e.details["outcome"] for e in ended] == ["promoted"]
    started = next(e for e in events if e.kind == "retraining started")
    assert started.details["trigger"] == "manual" and started.details["data"] == w.fresh


def test_a_retrained_model_that_fails_its_gate_leaves_the_champion_serving_and_the_timeline_says_why(world: World) -> None:
    w = world
    result = retrain(w.services, _spec(w, "train_constant"), actor="retrainer")
    assert result.status == "gate_failed" and not result.ok
    assert "accuracy" in result.reason
    assert _primary(w.services) == "fraud:1"
    assert w.services.registry("t").resolve("fraud@champion").version == 1
    assert w.services.registry("t").get_version("fraud", 2).state.value == "candidate"  # never approved, never served
    events = w.services.timeline().get_timeline("fraud").events
    kinds = [e.kind for e in events]
    assert _subsequence(["retraining started", "retrained", "gate", "retraining ended"], kinds)
    assert "candidate registered" not in kinds and "canary started" not in kinds
    gate = next(e for e in events if e.kind == "gate" and 2 in e.versions)
    assert gate.details.get("passed") is False and gate.details["champion_version"] == 1
    assert {c["gate"] for c in gate.details["failed_checks"]} == {"min.accuracy", "beat_champion.accuracy"}  # type: ignore[attr-defined]
    ended = events[-1]
    assert ended.kind == "retraining ended" and ended.details["outcome"] == "gate_failed" and "accuracy" in str(ended.details["reason"])


def test_a_training_step_that_crashes_leaves_the_champion_serving(world: World) -> None:
    w = world
    result = retrain(w.services, _spec(w, "train_crash"), actor="retrainer")
    assert result.status == "train_failed" and "MemoryError" in result.reason
    assert _primary(w.services) == "fraud:1"
    assert w.services.registry("t").resolve("fraud@champion").version == 1
    assert [v.version for v in w.services.registry("t").list_versions("fraud").versions] == [1]
    ended = w.services.timeline().get_timeline("fraud").events[-1]
    assert ended.kind == "retraining ended" and ended.details["outcome"] == "train_failed"
    assert "out of memory" in str(ended.details["reason"])
