"""A registered model's timeline, read from the audit trail, on SQLite and PostgreSQL: a real
flow (data, runs, gate, approvals, states, aliases, deployment, canary, promotion, rollback,
retirement) appears in chain order with who acted and the evidence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.errors import InvalidInputError, NotFoundError
from steward.wiring import Services

POLICY = "min: {roc_auc: 0.7}\n"


def _frame(seed: int, rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"amount": rng.normal(size=rows), "count": rng.integers(0, 5, rows)})
    df["label"] = (df["amount"] + 0.3 * df["count"] + rng.normal(scale=0.4, size=rows) > 1.0).astype(int)
    return df


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


def run_the_loop(client: Client, services: Services) -> None:
    """data -> two training runs -> versions -> gate -> approvals -> states -> alias ->
    deployment -> canary -> promote -> rollback -> retire, each step by its own actor."""
    from sklearn.linear_model import LogisticRegression

    train = services.data("ann").register("fraud-train", _frame(1))
    holdout = services.data("ann").register("holdout", _frame(2))
    frame = _frame(1)
    for features in (["count"], ["amount", "count"]):
        model = LogisticRegression().fit(frame[features], frame["label"])
        with client.start_run("fraud-training") as run:
            run.log_input(train.ref)
            run.log_model(model, "fraud", input_example=frame[features].head(3), registered_model_name="fraud")
    registry = services.registry("rita")
    registry.approve("fraud", 1, comment="baseline")
    registry.set_alias("fraud", "champion", 1)
    services.evaluation("carl").gate("fraud:2", holdout.ref, POLICY, target="label", measure_latency=False)
    registry.approve("fraud", 2, comment="gate passed")
    deploy = services.deployments("dana")
    deploy.create_deployment("fraud-api", "fraud@champion", reason="first release")
    deploy.canary("fraud-api", "fraud:2", percent=10, reason="try v2")
    deploy.promote("fraud-api", reason="canary healthy")
    services.registry("dana").transition("fraud", 2, "production", comment="serving all traffic")
    deploy.rollback("fraud-api", reason="late complaints")
    services.registry("rita").transition("fraud", 2, "deprecated", comment="rolled back")
    services.registry("rita").retire("fraud", 2, comment="superseded by the champion")


def test_the_timeline_holds_every_event_of_the_loop_in_order_with_actor_and_evidence(client: Client, services: Services) -> None:
    run_the_loop(client, services)
    timeline = services.timeline().get_timeline("fraud")
    events = timeline.events
    assert timeline.next_after is None
    ids = [e.entry_id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # what happened to fraud, in order (run bookkeeping such as params interleaves, not asserted)
    story = [(e.kind, e.versions) for e in events if e.kind != e.action or e.action.startswith("deployments.")]
    wanted = [
        # the first version registers the model (no models.create of its own)
        ("run started", (1,)), ("data used", (1,)), ("version registered", (1,)), ("run ended", (1,)),
        ("run started", (2,)), ("data used", (2,)), ("version registered", (2,)), ("run ended", (2,)),
        ("approved", (1,)), ("alias set", (1,)), ("gate", (2,)), ("approved", (2,)),
        ("deployment create", (1,)), ("deployment canary", (1, 2)), ("deployment promote", (1, 2)),
        ("state changed", (2,)), ("deployment rollback", (1,)), ("state changed", (2,)), ("retired", (2,)),
    ]
    got = [s for s in story if s[0] in {w[0] for w in wanted}]
    assert got == wanted, "\n".join(map(str, got))
    by_kind = {e.kind: e for e in events}
    gate = by_kind["gate"]
    assert gate.actor == "carl" and gate.target == "models:/fraud/2"
    assert gate.details["passed"] is True and gate.details["dataset"] == "datasets:/holdout/1" and gate.details["gate_result_id"]
    assert by_kind["approved"].actor == "rita"
    canary = by_kind["deployment canary"]
    assert canary.actor == "dana" and canary.details["reason"] == "try v2"
    assert {v["model"]: v["weight"] for v in canary.details["variants"]} == {"fraud:1": 90.0, "fraud:2": 10.0}
    assert by_kind["deployment rollback"].details["reason"] == "late complaints"
    assert "fraud-train" in str(by_kind["data used"].details["inputs"])
    moves = [(e.actor, e.details["from"], e.details["to"], e.details["comment"]) for e in events if e.action == "models.transition"]
    assert moves == [
        ("dana", "approved", "production", "serving all traffic"),
        ("rita", "production", "deprecated", "rolled back"),
        ("rita", "deprecated", "retired", "superseded by the champion"),
    ]


def test_the_timeline_pages_in_chain_order(client: Client, services: Services) -> None:
    run_the_loop(client, services)
    everything = services.timeline().get_timeline("fraud").events
    pages, after = [], 0
    while True:
        page = services.timeline().get_timeline("fraud", after=after, max_results=4)
        pages.extend(page.events)
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == list(everything)


def test_another_models_events_stay_out_of_the_timeline(client: Client, services: Services) -> None:
    services.registry("ann").create_model("fraud")
    services.registry("ann").create_model("fraud2")
    services.registry("ann").set_model_tag("fraud2", "team", "x")
    events = services.timeline().get_timeline("fraud").events
    assert [(e.kind, e.target) for e in events] == [("model registered", "models:/fraud")]


def test_an_unknown_model_is_not_found_and_bad_bounds_name_the_field(services: Services) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        services.timeline().get_timeline("nope")
    services.registry("ann").create_model("fraud")
    with pytest.raises(InvalidInputError) as exc:
        services.timeline().get_timeline("fraud", max_results=0)
    assert exc.value.field == "max_results"


def test_alerts_on_a_deployment_that_served_the_model_and_their_rollback_appear(client: Client, services: Services) -> None:
    from sklearn.linear_model import LogisticRegression

    from steward.core.alerts import Observation
    from steward.monitoring._alert_rules import parse_alert_rules

    frame = _frame(1)
    model = LogisticRegression().fit(frame[["amount", "count"]], frame["label"])
    with client.start_run("fraud-training") as run:
        for _ in range(2):
            run.log_model(model, "fraud", input_example=frame[["amount", "count"]].head(3), registered_model_name="fraud")
    for v in (1, 2):
        services.registry("rita").approve("fraud", v, comment="ok")
    deploy = services.deployments("dana")
    deploy.create_deployment("fraud-api", "fraud:1")
    deploy.switch("fraud-api", "fraud:2", reason="new model")
    rules = parse_alert_rules(
        "rules:\n  - name: auc-low\n    deployment: fraud-api\n    metric: quality.roc_auc\n"
        '    comparison: "<"\n    threshold: 0.8\n    min_sample: 200\n    actions: [rollback]\n'
    )
    try:
        services.alerts("monitor").evaluate(rules, {"quality.roc_auc": Observation(1_767_000_000_000, 0.61, 480)})
    finally:
        services.alert_runtime().close()
    tail = [(e.kind, e.actor, e.target) for e in services.timeline().get_timeline("fraud").events][-3:]
    assert tail == [
        ("alert fired", "monitor", "alerts:/auc-low"),
        ("deployment rollback", "monitor", "deployments:/fraud-api"),
        ("alert action rollback", "monitor", "alerts:/auc-low"),
    ]
    fired = next(e for e in services.timeline().get_timeline("fraud").events if e.kind == "alert fired")
    assert fired.details["value"] == 0.61 and fired.details["threshold"] == 0.8


def test_a_failed_gate_says_why_in_the_timeline(client: Client, services: Services) -> None:
    from sklearn.linear_model import LogisticRegression

    holdout = services.data("ann").register("holdout", _frame(2))
    frame = _frame(1)
    for features in (["amount", "count"], ["count"]):
        model = LogisticRegression().fit(frame[features], frame["label"])
        with client.start_run("fraud-training") as run:
            run.log_model(model, "fraud", input_example=frame[features].head(3), registered_model_name="fraud")
    services.registry("rita").set_alias("fraud", "champion", 1)
    policy = "beat_champion: {metric: roc_auc, min_delta: 0.01}\n"
    record = services.evaluation("carl").gate("fraud:2", holdout.ref, policy, target="label", measure_latency=False)
    assert not record.passed
    [gate] = [e for e in services.timeline().get_timeline("fraud").events if e.kind == "gate"]
    assert gate.details["passed"] is False and gate.details["champion_version"] == 1
    [failed] = gate.details["failed_checks"]
    assert isinstance(failed, dict) and failed["gate"] == "beat_champion.roc_auc"
