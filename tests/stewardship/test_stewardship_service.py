"""Owners, retirement and drills through the stewardship service, on SQLite and PostgreSQL:
retiring a version that serves is refused naming the deployment; --drain moves its traffic to
the champion first; the retention policy keeps or archives its files; its card says retired,
what served it when stays on record, and the timeline shows each step. Alerts name the owner."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.core.alerts import AlertEvent, AlertStatus, EventKind
from steward.errors import ConflictError, InvalidInputError
from steward.stewardship import Drill
from steward.wiring import Services, build_services


def _register(settings: Settings, count: int) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        with client.start_run("stewardship-tests") as run:
            for _ in range(count):
                run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    finally:
        client.close()


@pytest.fixture
def fraud(settings: Settings, services: Services) -> Services:
    """fraud:1 champion serving fraud-api; fraud:2 approved; fraud:3 approved."""
    _register(settings, 3)
    registry = services.registry("reviewer")
    for v in (1, 2, 3):
        registry.approve("fraud", v, comment="reviewed")
    registry.set_alias("fraud", "champion", 1)
    services.deployments("deployer").create_deployment("fraud-api", "fraud:1")
    return services


def _kinds(services: Services) -> list[str]:
    return [e.kind for e in services.timeline().get_timeline("fraud").events]


def test_the_owner_defaults_to_the_registrant_and_set_owner_is_audited_on_the_timeline(fraud: Services) -> None:
    steward = fraud.stewardship("admin")
    assert steward.get_owner("fraud").owner == "tester" and steward.get_owner("fraud").on_call == ""
    set_ = steward.set_owner("fraud", owner="alice", on_call="ops@example.com")
    assert (set_.owner, set_.on_call, set_.updated_by) == ("alice", "ops@example.com", "admin")
    assert steward.set_owner("fraud", on_call="pager:fraud").owner == "alice"  # what is not given stays
    owner_set = [e for e in fraud.timeline().get_timeline("fraud").events if e.kind == "owner set"]
    assert [e.details["on_call"] for e in owner_set] == ["ops@example.com", "pager:fraud"]
    assert steward.contacts_for_deployment("fraud-api") == {"model": "fraud", "owner": "alice", "on_call": "pager:fraud"}
    assert steward.contacts_for_deployment("nope") == {}
    with pytest.raises(InvalidInputError) as bad:
        steward.set_owner("fraud", owner="alice smith; rm")
    assert bad.value.field == "owner"


def test_an_alert_on_the_deployment_names_the_models_owner_and_on_call(fraud: Services, caplog: pytest.LogCaptureFixture) -> None:
    from steward.monitoring._alert_rules import parse_alert_rules
    from steward.monitoring._notify import AlertGauges, Notifier

    fraud.stewardship("admin").set_owner("fraud", owner="alice", on_call="ops@example.com")
    rules = parse_alert_rules(
        "rules:\n  - name: fraud-drift\n    deployment: fraud-api\n    metric: drift.share\n    comparison: '>'\n"
        "    threshold: 0.3\n    window: 1h\n    notify: [log]\n"
    )
    rule = rules.rules[0]
    notifier = Notifier({}, lambda _: "", AlertGauges(), contacts=fraud.alerts("t").contacts)
    with caplog.at_level(logging.WARNING, logger="steward.alerts"):
        notifier.notify(rule, AlertEvent(EventKind.FIRED, "fraud-drift", 1_000, {"value": 0.5}), AlertStatus.FIRING)
    line = json.loads(next(r.getMessage() for r in caplog.records if "fraud-drift" in r.getMessage()))
    assert (line["owner"], line["on_call"], line["model"]) == ("alice", "ops@example.com", "fraud")
    notifier.close()


def test_retiring_a_version_that_serves_is_refused_naming_the_deployment(fraud: Services) -> None:
    fraud.deployments("deployer").canary("fraud-api", "fraud:2", percent=10)
    with pytest.raises(ConflictError) as refused:
        fraud.stewardship("deployer").retire("fraud", 2)
    assert "fraud-api" in refused.value.message and "--drain" in refused.value.message
    with pytest.raises(ConflictError) as champion:
        fraud.stewardship("deployer").retire("fraud", 1, drain=True)
    assert "champion" in champion.value.message
    assert fraud.registry("t").get_version("fraud", 2).state.value == "approved"  # nothing changed


def test_drain_moves_the_traffic_to_the_champion_then_retires_and_keeps_the_record(fraud: Services) -> None:
    deployments = fraud.deployments("deployer")
    deployments.switch("fraud-api", "fraud:2")  # fraud:2 is now the primary, fraud:1 (champion) previous
    deployments.canary("fraud-api", "fraud:3", percent=20)
    steward = fraud.stewardship("deployer")
    assert steward.serving("fraud", 2) == {"fraud-api": ["primary"]}
    retired = steward.retire("fraud", 2, drain=True, comment="superseded by the champion")
    assert retired.drained == ["fraud-api"] and retired.retention == "keep" and retired.archive == ""
    plan = deployments.get_deployment("fraud-api")
    assert {v.name: v.model for v in plan.plan.variants if v.weight > 0} == {"primary": "fraud:1"}
    assert fraud.registry("t").get_version("fraud", 2).state.value == "retired"
    assert fraud.evaluation("t").card("fraud:2")["state"] == "retired"
    assert [(s["deployment"], s["variant"]) for s in retired.served] == [("fraud-api", "primary")]
    assert retired.served[0]["to_ms"] is not None  # it served from the switch until the drain
    assert steward.get_retirement("fraud", 2).served == retired.served
    kinds = _kinds(fraud)
    tail = kinds[kinds.index("deployment switch", kinds.index("deployment canary")):]
    assert tail[-2:] == ["retired", "retirement recorded"]
    entry = fraud.timeline().get_timeline("fraud").events[-1]
    assert entry.action == "model_version.retire" and entry.versions == (2,) and entry.details["drained"] == ["fraud-api"]
    with pytest.raises(ConflictError):
        steward.retire("fraud", 2)


def test_the_archive_retention_policy_writes_a_bundle_and_records_its_digest(fraud: Services, settings: Settings) -> None:
    archiving = build_services(settings.model_copy(update={"retention": "archive"}))
    try:
        retired = archiving.stewardship("deployer").retire("fraud", 3)
    finally:
        archiving.close()
    assert retired.retention == "archive" and len(retired.archive_sha256) == 64
    bundle = Path(retired.archive)
    assert bundle.is_dir() and any(bundle.rglob("*")) and str(settings.resolved_home()) in str(bundle)


def test_a_drill_is_recorded_on_the_deployment_and_shows_on_the_timeline(fraud: Services) -> None:
    steward = fraud.stewardship("deployer")
    assert steward.last_drill("fraud-api") is None
    drill = Drill("fraud-api", 1_000, "", "fraud:2", "fraud:1", 120, 90, 300, 0, True)
    stored = steward.record_drill(drill)
    assert stored.id > 0 and stored.actor == "deployer"
    assert steward.last_drill("fraud-api") == stored
    event = fraud.timeline().get_timeline("fraud").events[-1]
    assert event.kind == "rollback drill" and event.target == "deployments:/fraud-api" and event.details["passed"] is True


def test_every_way_of_retiring_refuses_a_serving_version(fraud: Services) -> None:
    registry = fraud.registry("deployer")
    with pytest.raises(ConflictError) as plain:
        registry.transition("fraud", 1, "retired")  # steward models transition, the REST transitions route
    assert "fraud-api" in plain.value.message and "--drain" in plain.value.message
    with pytest.raises(ConflictError):
        registry.retire("fraud", 1)
    assert registry.get_version("fraud", 1).state.value == "approved"
    assert registry.retire("fraud", 3).state.value == "retired"  # serves nothing: retired at once
