"""Alert actions on real services: a firing rule rolls a real deployment back and starts a
retraining command (time-limited) given the drifted window as a dataset version; each is audited."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.core.alerts import AlertRule, Comparison, Observation
from steward.core.predictions import PredictionBatch
from steward.errors import InvalidInputError
from steward.monitoring._actions import ActionOutcome, run_retrain
from steward.monitoring._alert_rules import RetrainCommand, parse_alert_rules
from steward.wiring import Services

NOW = 1_767_000_000_000
HOUR = 3_600_000


@pytest.fixture
def alerting(services: Services) -> Iterator[Services]:
    yield services
    services.alert_runtime().close()


@pytest.fixture
def two_versions(settings: Settings, services: Services) -> None:
    """``fraud`` versions 1 and 2, both approved."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        with client.start_run("alert-tests") as run:
            for _ in range(2):
                run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    finally:
        client.close()
    for v in (1, 2):
        services.registry("reviewer").approve("fraud", v, comment="ok")


def test_a_firing_rule_rolls_its_deployment_back_and_audits_it_with_the_evidence(alerting: Services, two_versions: None) -> None:
    deployments = alerting.deployments("dana")
    deployments.create_deployment("fraud-api", "fraud:1", reason="first")
    deployments.switch("fraud-api", "fraud:2", reason="new model")
    rules = parse_alert_rules("""\
rules:
  - name: auc-low
    deployment: fraud-api
    metric: quality.roc_auc
    comparison: "<"
    threshold: 0.8
    min_sample: 200
    actions: [rollback]
""")
    alerts = alerting.alerts("monitor")
    quiet = alerts.evaluate(rules, {"quality.roc_auc": Observation(NOW, 0.9, 500)})
    assert quiet.outcomes[0].actions == ()
    thin = alerts.evaluate(rules, {"quality.roc_auc": Observation(NOW + HOUR, 0.5, 20)})  # too few labels: no action
    assert thin.outcomes[0].actions == () and deployments.get_deployment("fraud-api").plan.variants[0].model == "fraud:2"

    fired = alerts.evaluate(rules, {"quality.roc_auc": Observation(NOW + 2 * HOUR, 0.61, 480)})
    [outcome] = fired.outcomes
    [action] = outcome.actions
    assert action.ok and action.details["primary"] == "fraud:1"
    plan = deployments.get_deployment("fraud-api").plan
    assert [(v.name, v.model, v.weight) for v in plan.variants] == [("primary", "fraud:1", 100.0)]
    history = deployments.list_history("fraud-api")
    assert history[0].action == "rollback" and history[0].actor == "monitor" and "alert auc-low fired" in history[0].reason
    audit = alerting.store.list_audit(target="alerts:/auc-low")
    assert [a.action for a in audit] == ["alerts.fire", "alerts.action.rollback"]
    evidence = audit[1].details["evidence"]
    assert isinstance(evidence, dict) and evidence["value"] == 0.61 and evidence["sample"] == 480 and evidence["threshold"] == 0.8
    assert audit[1].actor == "monitor" and audit[1].details["ok"] is True

    # firing again (still breaching) does not act twice; recovering resolves, audited
    again = alerts.evaluate(rules, {"quality.roc_auc": Observation(NOW + 3 * HOUR, 0.6, 480)})
    assert again.outcomes[0].actions == () and again.outcomes[0].events == ()
    alerts.evaluate(rules, {"quality.roc_auc": Observation(NOW + 4 * HOUR, 0.88, 480)})
    assert [a.action for a in alerting.store.list_audit(target="alerts:/auc-low")][-1] == "alerts.resolve"
    record, events = alerts.get_alert("auc-low")
    assert record.state.status.value == "inactive"
    assert [e.kind for e in events] == ["resolved", "action.rollback", "fired", "insufficient_sample"]


def test_a_rollback_with_nothing_to_roll_back_to_is_recorded_not_raised(alerting: Services, two_versions: None) -> None:
    alerting.deployments("dana").create_deployment("fraud-api", "fraud:1")
    rules = parse_alert_rules("rules: [{name: p99, deployment: fraud-api, metric: health.p99_ms, comparison: '>', threshold: 200, actions: [rollback]}]")
    [outcome] = alerting.alerts().evaluate(rules, {"health.p99_ms": Observation(NOW, 900.0, 50)}).outcomes
    [action] = outcome.actions
    assert not action.ok and "nothing to roll back" in str(action.details["error"])
    assert [a.action for a in alerting.store.list_audit(target="alerts:/p99")] == ["alerts.fire", "alerts.action.rollback"]


def _log_predictions(services: Services, start_ms: int, n: int) -> None:
    log = services.prediction_log()
    for i in range(n):
        log.append(PredictionBatch(
            f"req-{i}", "fraud-api", "fraud", 1, "primary", {"amount": [float(i)], "count": [i % 5]}, [i % 2], 2.5, start_ms + i * 1000,
        ))
    assert log.flush()


def test_the_retrain_command_gets_the_drifted_window_as_a_dataset_version(alerting: Services, tmp_path: Path) -> None:
    _log_predictions(alerting, NOW - 30 * 60_000, 40)  # inside the hour before NOW
    _log_predictions(alerting, NOW - 5 * HOUR, 10)  # an older window: not included
    seen = tmp_path / "seen.json"
    script = f"import json, os; json.dump({{k: v for k, v in os.environ.items() if k.startswith('STEWARD_ALERT_')}}, open({str(seen)!r}, 'w'))"
    rules = parse_alert_rules(f"""\
rules:
  - {{name: drift-high, deployment: fraud-api, metric: drift.share, comparison: ">", threshold: 0.3, window: 1h, actions: [retrain]}}
retrain:
  command: {json.dumps([sys.executable, "-c", script])}
  timeout: 60s
""")
    evaluation = alerting.alerts("monitor").evaluate(rules, {"drift.share": Observation(NOW, 0.55, 40)})
    [outcome] = evaluation.wait(timeout=60)
    assert isinstance(outcome, ActionOutcome) and outcome.ok, outcome.details
    env = json.loads(seen.read_text())
    assert env["STEWARD_ALERT_RULE"] == "drift-high" and env["STEWARD_ALERT_DEPLOYMENT"] == "fraud-api"
    assert env["STEWARD_ALERT_DATASET"] == "fraud-api-drift-high:1"
    assert env["STEWARD_ALERT_WINDOW_END"].startswith("2025-12-29T") and env["STEWARD_ALERT_WINDOW_START"] < env["STEWARD_ALERT_WINDOW_END"]
    version = alerting.data("x").get("fraud-api-drift-high:1")
    assert version.num_rows == 40
    audit = alerting.store.list_audit(target="alerts:/drift-high")
    assert [a.action for a in audit] == ["alerts.fire", "alerts.action.retrain"]
    assert audit[1].details["dataset"] == "fraud-api-drift-high:1" and audit[1].details["exit_code"] == 0


def test_a_retrain_command_past_its_time_limit_is_killed() -> None:
    started = time.monotonic()
    outcome = run_retrain(RetrainCommand((sys.executable, "-c", "import time; print('training', flush=True); time.sleep(60)"), timeout_s=1.0), {})
    assert time.monotonic() - started < 10
    assert not outcome.ok and outcome.details["timed_out"] is True and "time limit of 1 s" in str(outcome.details["error"])
    assert "training" in str(outcome.details["output"])


def test_a_retrain_command_that_cannot_start_or_fails_is_reported() -> None:
    missing = run_retrain(RetrainCommand(("/nonexistent/steward-train",), timeout_s=5), {})
    assert not missing.ok and "cannot start" in str(missing.details["error"])
    failing = run_retrain(RetrainCommand((sys.executable, "-c", "import sys; sys.exit(3)"), timeout_s=5), {"STEWARD_ALERT_RULE": "r"})
    assert not failing.ok and failing.details["exit_code"] == 3


def test_rules_of_other_deployments_are_left_alone(alerting: Services) -> None:
    rules = parse_alert_rules("rules: [{name: a, deployment: other-api, metric: drift.share, comparison: '>', threshold: 0.3}]")
    assert alerting.alerts().evaluate(rules, {"drift.share": Observation(NOW, 0.9, 10)}, deployment="fraud-api").outcomes == ()
    assert AlertRule("x", "drift.share", Comparison.GT, 0.1).describe() == "drift.share > 0.1"


def test_evaluating_rules_on_columns_the_data_lacks_is_refused_before_anything_is_stored(alerting: Services) -> None:
    rules = parse_alert_rules("rules:\n  - {name: amt, metric: drift.feature.amount.effect, comparison: '>', threshold: 0.1}\n")
    with pytest.raises(InvalidInputError, match=r"alert rules line 2: .*no column 'amount'.*columns are: count, price"):
        alerting.alerts().evaluate(rules, {"drift.feature.amount.effect": Observation(NOW, 0.5, 100)}, columns=["price", "count"])
    assert alerting.alerts().list_alerts() == []
