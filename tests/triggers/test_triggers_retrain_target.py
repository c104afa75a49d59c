"""A trigger whose target is ``retrain:<model>``: an alert's window, labels joined, becomes a
training frame and the standard lifecycle pipeline (``steward retrain``) runs on it, its
stages on the model's timeline with the trigger named."""

from __future__ import annotations

from pathlib import Path

import pytest
from triggers_testing import NOW, log_window, register_model

from steward.core.alerts import Observation
from steward.errors import InvalidInputError, NotFoundError
from steward.monitoring._alert_rules import parse_alert_rules
from steward.wiring import Services

STEP = '''
def train(frame, target):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression().fit(frame.drop(columns=[target]), frame[target])
'''


@pytest.fixture
def project_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "triggers_retrain_step.py").write_text(STEP, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "gate.yaml").write_text("min: {accuracy: 0.0}\n", encoding="utf-8")
    path = tmp_path / "steward.yaml"
    path.write_text("retrain:\n  fraud:\n    train: triggers_retrain_step:train\n    target: label\n    gate: gate.yaml\n", encoding="utf-8")
    return path


def test_an_alert_trigger_runs_the_lifecycle_on_the_labelled_window(services: Services, project_file: Path) -> None:
    register_model(services.settings)
    log_window(services, rows=40, start_ms=NOW - 30 * 60_000)
    triggers = services.triggers("dana")
    made = triggers.create_trigger(
        "on-drift", "alert", "retrain:fraud", alert="drift-high", project="fraud", params={"project_file": str(project_file)},
    )
    assert made.pipeline["retrain"] == "fraud" and made.pipeline["input"] == "data"
    rules = parse_alert_rules("rules: [{name: drift-high, deployment: fraud-api, metric: drift.share, comparison: '>', threshold: 0.3, window: 1h}]")
    try:
        services.alerts("monitor").evaluate(rules, {"drift.share": Observation(NOW, 0.55, 40)})
    finally:
        services.alert_runtime().close()
    [start] = triggers.run_due()
    assert start.status == "finished", start.error  # gate passed; the version waits for its approval
    assert start.params["data"] == "fraud-api-drift-high:1" and start.run_id
    frame = services.data("dana").load("fraud-api-drift-high-labeled:1")
    assert frame.columns == ["amount", "label"] and frame.height == 40
    projects = {d.name: d.project for d in services.data("dana").list_datasets()}
    assert projects["fraud-api-drift-high-labeled"] == projects["fraud-api-drift-high"] == "fraud"  # the trigger's project
    events = services.timeline().get_timeline("fraud").events
    kinds = [e.kind for e in events]
    started = next(e for e in events if e.kind == "retraining started")
    assert started.details["trigger"] == "alert:drift-high" and started.details["data"] == "datasets:/fraud-api-drift-high-labeled/1"
    assert kinds.index("retraining started") < kinds.index("gate") < kinds.index("candidate registered") < kinds.index("awaiting approval")
    assert services.registry("t").get_version("fraud", 2).state.value == "candidate"
    assert triggers.run_due() == []  # the same firing: one retraining


def test_a_failing_retraining_fails_its_start(services: Services, project_file: Path) -> None:
    register_model(services.settings)
    (project_file.parent / "gate.yaml").write_text("min: {accuracy: 1.01}\n", encoding="utf-8")
    services.data("dana").register("fresh", log_frame())
    triggers = services.triggers("dana")
    triggers.create_trigger("on-data", "dataset", "retrain:fraud", dataset="fresh", params={"project_file": str(project_file)})
    services.data("dana").register("fresh", log_frame(seed=1))
    [start] = triggers.run_due()
    assert start.status == "failed" and start.error is not None and start.error.startswith("gate_failed")


def log_frame(seed: int = 0) -> object:
    from triggers_testing import frame

    return frame(30, seed)


def test_bad_retrain_targets_are_refused_naming_the_field(services: Services, project_file: Path) -> None:
    triggers = services.triggers("dana")
    with pytest.raises(InvalidInputError) as bad:
        triggers.create_trigger("t1", "cron", "retrain:no model", schedule="0 3 * * *")
    assert bad.value.field == "pipeline"
    with pytest.raises(InvalidInputError) as bad:
        triggers.create_trigger("t1", "cron", "retrain:fraud", schedule="0 3 * * *", params={"c": 0.5})
    assert bad.value.field == "params"
    with pytest.raises(NotFoundError) as missing:
        triggers.create_trigger("t1", "cron", "retrain:fraud", schedule="0 3 * * *", params={"project_file": str(project_file) + ".missing.yaml"})
    assert missing.value.field == "params"
