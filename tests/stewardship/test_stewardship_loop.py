"""The closed loop end to end on a small dataset: a retraining (manual trigger) validates the
fresh data, trains, gates the new version against the champion on the same data, registers it
as a candidate, waits for its approval, canaries it on the deployment while a real ``steward
serve`` answers traffic, rolls it out and promotes it; every stage is on the model's timeline,
in order. Variants: the retrained model fails its gate, the training step raises, its process
dies (``os._exit``, SIGKILL) or overruns its time limit; in each the champion keeps serving,
the timeline says why, and a following good retraining works.

The retraining starts here by hand (``steward retrain``); the alert -> trigger -> retraining
start is tests/triggers/test_triggers_retrain_target.py's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
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
from steward.stewardship.lifecycle import RetrainResult, RetrainSpec, retrain
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


# the world's own history: the champion's run and registration, its approval, promotion and deployment
SETUP = ["run started", "version registered", "run ended", "approved", "state changed", "alias set", "deployment create"]
# a retraining up to its gate: validated, trained in a run that read the fresh window, the
# new version evaluated (and the champion on the same data), the gate
TO_THE_GATE = [
    "retraining started", "data validated", "run started", "data used", "version registered", "run ended", "retrained",
    "evaluated", "evaluated", "gate",
]
# a retraining whose training step failed: no version (its failed run names no model, so is not on the timeline)
TRAIN_FAILED = ["retraining started", "data validated", "retraining ended"]


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
    assert story == [
        *SETUP, *TO_THE_GATE, "candidate registered", "awaiting approval",  # the first run stops for the approval
        "approved", "retraining resumed", "canary started",  # steps 20 -> 60 -> 100 %: one advance, then promotion
        "rollout advanced", "promoted",
        "state changed", "alias set", "state changed",  # fraud:2 production and @champion, fraud:1 deprecated
        "retraining ended",
    ], story
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
    assert kinds == [*SETUP, *TO_THE_GATE, "retraining ended"], kinds  # no candidate, no canary
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


def _ends_train_failed(w: World, result: RetrainResult, why: str) -> None:
    """The retraining ended train_failed naming ``why``; the champion serves and is untouched."""
    assert result.status == "train_failed" and not result.ok, result.to_dict()
    assert why in result.reason, result.reason
    assert _primary(w.services) == "fraud:1"
    deployment = w.services.deployments("t").get_deployment("fraud-api")
    assert deployment.status != "rolling_out" and [v.model for v in deployment.plan.variants] == ["fraud:1"]
    assert w.services.registry("t").resolve("fraud@champion").version == 1
    assert w.services.registry("t").get_version("fraud", 1).state.value == "production"
    assert [v.version for v in w.services.registry("t").list_versions("fraud").versions] == [1]
    ended = w.services.timeline().get_timeline("fraud").events[-1]
    assert ended.kind == "retraining ended" and ended.details["outcome"] == "train_failed"
    assert why in str(ended.details["reason"]), ended.details


def test_a_training_process_that_dies_or_overruns_leaves_the_champion_serving_and_a_good_retraining_follows(world: World) -> None:
    w = world
    # os._exit(137): the process gone without an exception (the retraining's own process carries on)
    _ends_train_failed(w, retrain(w.services, _spec(w, "train_killed"), actor="retrainer"), "fraud_training:train_killed crashed (exit code 137)")
    # SIGKILL, as the kernel's OOM killer sends it
    _ends_train_failed(w, retrain(w.services, _spec(w, "train_sigkill"), actor="retrainer"), "crashed (killed by signal SIGKILL)")
    # a step that never finishes: killed at its time limit
    hung = replace(_spec(w, "train_hang"), train_timeout_s=1.0)
    _ends_train_failed(w, retrain(w.services, hung, actor="retrainer"), "fraud_training:train_hang exceeded its time limit of 1s")
    assert _story(w.services) == [*SETUP, *TRAIN_FAILED, *TRAIN_FAILED, *TRAIN_FAILED]
    runs = w.services.tracking("t").search_runs("retrain-fraud").runs
    assert [r.status.value for r in runs] == ["failed"] * 3  # each training's run ended failed
    # the next retraining, with a working step, trains, gates and registers its candidate
    good = retrain(w.services, _spec(w, "train"), actor="retrainer")
    assert good.status == "awaiting_approval" and good.version == 2, good.to_dict()
    assert _primary(w.services) == "fraud:1" and w.services.registry("t").resolve("fraud@champion").version == 1
    assert _story(w.services)[-12:] == [*TO_THE_GATE, "candidate registered", "awaiting approval"]
