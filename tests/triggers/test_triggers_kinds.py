"""Each kind of trigger on SQLite and PostgreSQL: a cron tick, a new dataset version, an
alert firing (its window, labels joined, registered as a dataset version) and a registry
event each start the pipeline once, with the event's input as a parameter, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from triggers_testing import HOUR, NOW, frame, log_window, pipeline_file, register_model

from steward.core.alerts import Observation
from steward.errors import AlreadyExistsError, InvalidInputError, NotFoundError, StewardError
from steward.monitoring._alert_rules import parse_alert_rules
from steward.settings import Settings
from steward.triggers import next_tick
from steward.wiring import Services

MINUTE = 60_000


@pytest.fixture
def pipeline(tmp_path: Path) -> str:
    return str(pipeline_file(tmp_path))


def _run_params(services: Services, run_id: str | None) -> dict[str, str]:
    assert run_id is not None
    return dict(services.tracking().get_run(run_id).params)


def test_a_cron_trigger_starts_once_per_tick(services: Services, pipeline: str) -> None:
    triggers = services.triggers("dana")
    trigger = triggers.create_trigger("nightly", "cron", pipeline, schedule="*/15 * * * *", params={"c": 2.0}, now=NOW)
    assert trigger.next_fire_at == next_tick("*/15 * * * *", NOW) and trigger.source == {"schedule": "*/15 * * * *", "timezone": "UTC"}
    assert triggers.run_due(now=NOW) == []  # not yet due
    tick = trigger.next_fire_at
    [start] = triggers.run_due(now=tick + 1)
    assert start.status == "finished" and start.event_key == f"cron:{tick}", start.error
    assert _run_params(services, start.run_id)["c"] == "2.0"
    assert triggers.run_due(now=tick + 2) == []  # the same tick: nothing more
    assert triggers.get_trigger("nightly").next_fire_at == tick + 15 * MINUTE
    # ticks missed while nothing looked start one pipeline, for the latest of them
    [late] = triggers.run_due(now=tick + 61 * MINUTE)
    assert late.event_key == f"cron:{tick + 60 * MINUTE}"
    audit = services.store.list_audit(target="triggers:/nightly")
    assert [a.action for a in audit] == ["triggers.create", "triggers.start", "triggers.finish", "triggers.start", "triggers.finish"]
    assert audit[1].details["event_key"] == f"cron:{tick}" and audit[1].actor == "dana"


def test_a_dataset_trigger_starts_on_each_new_version_with_it_as_input(services: Services, pipeline: str) -> None:
    services.data("dana").register("transactions", frame(seed=1))
    triggers = services.triggers("dana")
    triggers.create_trigger("on-data", "dataset", pipeline, dataset="transactions")
    assert triggers.run_due() == []  # the version that existed before the trigger starts nothing
    services.data("dana").register("transactions", frame(seed=2))
    services.data("dana").register("transactions", frame(seed=3))
    starts = triggers.run_due()
    assert [s.event_key for s in starts] == ["dataset:transactions:2", "dataset:transactions:3"]
    assert all(s.status == "finished" for s in starts), [s.error for s in starts]
    assert _run_params(services, starts[0].run_id)["data"] == "transactions:2"
    assert triggers.run_due() == []
    history = triggers.history("on-data")
    assert [s.event_key for s in history] == ["dataset:transactions:3", "dataset:transactions:2"]  # newest first


def test_an_alert_trigger_gets_the_window_that_fired_joined_with_its_labels(services: Services, pipeline: str) -> None:
    log_window(services, rows=40, start_ms=NOW - 30 * MINUTE)
    triggers = services.triggers("dana")
    triggers.create_trigger("on-drift", "alert", pipeline, alert="drift-high", project="fraud")
    rules = parse_alert_rules(
        "rules: [{name: drift-high, deployment: fraud-api, metric: drift.share, comparison: '>', threshold: 0.3, window: 1h}]"
    )
    try:
        services.alerts("monitor").evaluate(rules, {"drift.share": Observation(NOW, 0.55, 40)})
    finally:
        services.alert_runtime().close()
    [start] = triggers.run_due()
    assert start.status == "finished", start.error
    assert start.event["deployment"] == "fraud-api" and start.event["window_end_ms"] == NOW
    assert start.event["window_start_ms"] == NOW - HOUR
    ref = start.params["data"]
    assert ref == "fraud-api-drift-high:1" and _run_params(services, start.run_id)["data"] == ref
    window = services.data("dana").load(ref)
    assert window.height == 40 and "label" in window.columns and window["label"].null_count() == 0
    assert {d.name: d.project for d in services.data("dana").list_datasets()}["fraud-api-drift-high"] == "fraud"
    assert triggers.run_due() == []  # the same firing: nothing more


def test_a_registry_trigger_starts_on_new_versions_approvals_and_alias_moves(services: Services, settings: Settings, pipeline: str) -> None:
    register_model(settings, versions=1)
    triggers = services.triggers("dana")
    triggers.create_trigger("on-model", "registry", pipeline, model="fraud")
    assert triggers.run_due() == []
    register_model(settings, versions=1)  # fraud:2
    services.registry("reviewer").approve("fraud", 2, comment="ok")
    services.registry("deployer").set_alias("fraud", "champion", 2)
    starts = triggers.run_due()
    assert [s.event_key.rsplit(":", 1)[0] for s in starts] == [
        "registry:fraud:version_created", "registry:fraud:approved", "registry:fraud:alias_moved",
    ], [s.event_key for s in starts]
    assert all(s.status == "finished" and s.params["model"] == "fraud:2" for s in starts), [s.error for s in starts]
    assert starts[2].event["alias"] == "champion"
    only = triggers.create_trigger("on-approval", "registry", pipeline, model="fraud", events=["approved"], input_param="model")
    assert only.source["events"] == ["approved"]
    services.registry("reviewer").approve("fraud", 1, comment="ok")
    [approved] = [s for s in triggers.run_due() if s.trigger == "on-approval"]
    assert approved.params["model"] == "fraud:1" and approved.event["event"] == "approved"


def test_a_failing_pipeline_is_recorded_on_its_start(services: Services, pipeline: str) -> None:
    services.data("dana").register("transactions", frame(seed=1))
    triggers = services.triggers("dana")
    triggers.create_trigger("on-data", "dataset", pipeline, dataset="transactions", params={"model": "boom"}, input_param="model")
    services.data("dana").register("transactions", frame(seed=2))
    [start] = triggers.run_due()
    # the input goes to the parameter named by input_param, over the fixed params
    assert start.params["model"] == "transactions:2" and start.status == "finished"
    failing = triggers.create_trigger("fails", "cron", pipeline, schedule="* * * * *", params={"data": "boom"}, now=NOW)
    assert failing.next_fire_at is not None
    [bad] = [s for s in triggers.run_due(now=failing.next_fire_at) if s.trigger == "fails"]
    assert bad.status == "failed" and "the step failed on purpose" in (bad.error or "")
    assert triggers.fire("fails", params={"data": "fine"}).status == "finished"


def test_bad_definitions_are_refused_naming_the_field(services: Services, pipeline: str, tmp_path: Path) -> None:
    triggers = services.triggers("dana")
    cases: list[tuple[dict[str, object], type[StewardError], str]] = [
        ({"kind": "cron", "schedule": "every hour"}, InvalidInputError, "schedule"),
        ({"kind": "cron", "schedule": "61 * * * *"}, InvalidInputError, "schedule"),
        ({"kind": "cron"}, InvalidInputError, "schedule"),
        ({"kind": "cron", "schedule": "0 3 * * *", "timezone": "Europe/Paris"}, InvalidInputError, "timezone"),
        ({"kind": "dataset", "dataset": "no-such-data"}, NotFoundError, "dataset"),
        ({"kind": "registry", "model": "no-such-model"}, NotFoundError, "model"),
        ({"kind": "registry", "model": "fraud", "events": ["deleted"]}, InvalidInputError, "events"),
        ({"kind": "alert", "alert": "Not A Rule"}, InvalidInputError, "alert"),
        ({"kind": "weekly"}, InvalidInputError, "kind"),
        ({"kind": "cron", "schedule": "0 3 * * *", "params": {"a b": 1}}, InvalidInputError, "params"),
        ({"kind": "cron", "schedule": "0 3 * * *", "pipeline": str(tmp_path / "missing.py")}, NotFoundError, "pipeline"),
        ({"kind": "cron", "schedule": "0 3 * * *", "pipeline": "train.sh"}, InvalidInputError, "pipeline"),
    ]
    for extra, error, field in cases:
        args = {"pipeline": pipeline, **extra}
        with pytest.raises(error) as caught:
            triggers.create_trigger("bad", **args)  # type: ignore[arg-type]
        assert caught.value.field == field, (extra, caught.value)
        if field == "schedule" and "schedule" in extra:
            assert str(extra["schedule"]) in caught.value.message
    with pytest.raises(InvalidInputError) as caught:
        triggers.create_trigger("Bad Name", "cron", pipeline, schedule="0 3 * * *")
    assert caught.value.field == "name"
    triggers.create_trigger("once", "cron", pipeline, schedule="0 3 * * *")
    with pytest.raises(AlreadyExistsError):
        triggers.create_trigger("once", "cron", pipeline, schedule="0 3 * * *")
    with pytest.raises(NotFoundError):
        triggers.fire("no-such")
    triggers.delete_trigger("once")
    assert triggers.list_triggers() == []


def test_an_alert_trigger_on_a_monitor_starts_on_each_drifted_window(services: Services, pipeline: str) -> None:
    from steward.monitoring._ports import Monitor, MonitorResult
    from steward.tracking import AuditEvent

    log_window(services, rows=30, start_ms=NOW - 30 * MINUTE)
    monitors = services.monitors("dana").store
    audit = AuditEvent("dana", "monitor.create", "monitors:/fraud-drift", NOW, {})
    monitors.create_monitor(Monitor("fraud-drift", "fraud-api", "fraud", "transactions:1", 3600, None, {}, None, NOW, "dana"), audit)
    triggers = services.triggers("dana")
    with pytest.raises(NotFoundError) as caught:
        triggers.create_trigger("on-drift", "alert", pipeline, monitor="no-such-monitor")
    assert caught.value.field == "monitor"
    triggers.create_trigger("on-drift", "alert", pipeline, monitor="fraud-drift")
    for status, start in (("ok", NOW - 2 * HOUR), ("drift", NOW - HOUR), ("insufficient_data", NOW)):
        monitors.add_result(MonitorResult(0, "fraud-drift", start, start + HOUR, status, {}, None, NOW, "dana"), audit)
    [drifted] = triggers.run_due()
    assert drifted.status == "finished", drifted.error
    assert drifted.event["status"] == "drift" and drifted.event["window_start_ms"] == NOW - HOUR
    assert drifted.params["data"] == "fraud-api-fraud-drift:1"
    assert services.data("dana").load("fraud-api-fraud-drift:1").height == 30
    assert triggers.run_due() == []
