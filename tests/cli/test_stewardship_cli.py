"""``steward models set-owner|owner|retire`` and ``steward deploy drill`` from the CLI, embedded
and against a live server (``any_cli``): retiring a serving version exits 5 naming the
deployment, ``--drain`` moves its traffic to the champion and retires it; ``steward retrain``
reads ``steward.yaml`` and exits 1 when the gate fails (the champion keeps serving), and
against a server says it needs the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_testing import Cli, client_settings

from steward import Client
from steward.wiring import build_services


def _seed(home: Path) -> str:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=80), "age": rng.normal(size=80)})
    frame["label"] = (frame["amount"] > 0).astype(int)
    model = LogisticRegression().fit(frame[["amount", "age"]], frame["label"])
    settings = client_settings(home)
    client = Client(settings)
    try:
        with client.start_run("stewardship-cli") as run:
            for _ in range(2):
                run.log_model(model, "fraud", input_example=frame[["amount", "age"]].head(3), registered_model_name="fraud")
            run_id = run.run_id
    finally:
        client.close()
    services = build_services(settings)
    try:
        registry = services.registry("reviewer")
        for v in (1, 2):
            registry.approve("fraud", v, comment="reviewed")
        registry.set_alias("fraud", "champion", 1)
        services.deployments("deployer").create_deployment("fraud-api", "fraud:1")
        services.deployments("deployer").canary("fraud-api", "fraud:2", percent=25)
        path = home.parent / "fresh.csv"
        frame.to_csv(path, index=False)
        services.data("tester").register("fraud-fresh", str(path))
    finally:
        services.close()
    return run_id


def test_owner_and_retirement_from_the_cli(any_cli: Cli, home: Path) -> None:
    run_id = _seed(home)
    registered = any_cli("models", "register", "fraud", "--run", run_id, "--path", "models/fraud", "--owner", "bob", "--on-call", "pager:fraud")
    assert registered.exit_code == 0, registered.output
    assert "registered fraud:3" in registered.stdout and "owner bob, on-call pager:fraud" in registered.stdout
    set_ = any_cli("models", "set-owner", "fraud", "--owner", "alice", "--on-call", "ops@example.com", "--json")
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.stdout)["owner"] == "alice"
    shown = any_cli("models", "owner", "fraud")
    assert shown.exit_code == 0 and "owner alice, on-call ops@example.com" in shown.stdout
    assert any_cli("models", "set-owner", "fraud").exit_code == 2
    refused = any_cli("models", "retire", "fraud:2")
    assert refused.exit_code == 5 and "fraud-api" in refused.output and "--drain" in refused.output
    drained = any_cli("models", "retire", "fraud:2", "--drain", "--comment", "lost the canary", "--json")
    assert drained.exit_code == 0, drained.output
    record = json.loads(drained.stdout)
    assert record["drained"] == ["fraud-api"] and record["served"][0]["variant"] == "candidate"
    again = any_cli("models", "retire", "fraud:2")
    assert again.exit_code == 5 and "already retired" in again.output
    assert any_cli("models", "retire", "fraud:9").exit_code == 3
    assert any_cli("models", "retire", "fraud").exit_code == 2
    timeline = json.loads(any_cli("models", "timeline", "fraud", "--json").stdout)["events"]
    assert [e["kind"] for e in timeline][-3:] == ["deployment rollback", "retired", "retirement recorded"]


def test_a_drill_without_a_previous_version_exits_5_in_both_modes(any_cli: Cli, home: Path) -> None:
    _seed(home)
    result = any_cli("deploy", "drill", "fraud-api")
    assert result.exit_code == 5 and "canary" in result.output


def test_retrain_reads_steward_yaml_and_a_failed_gate_exits_1_with_the_champion_serving(any_cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In both modes: through a server the training step runs here and every other stage is a REST call."""
    cli = any_cli
    _seed(home)
    (tmp_path / "gate.yaml").write_text("min: {accuracy: 0.99}\n")
    (tmp_path / "cli_retrain_step.py").write_text(
        "from sklearn.dummy import DummyClassifier\n\n"
        "def train(frame, target):\n"
        "    return DummyClassifier(strategy='constant', constant=0).fit(frame.drop(columns=[target]), frame[target])\n"
    )
    (tmp_path / "steward.yaml").write_text(
        "retrain:\n  fraud:\n    train: cli_retrain_step:train\n    data: fraud-fresh\n    target: label\n    gate: gate.yaml\n"
    )
    monkeypatch.chdir(tmp_path)
    result = cli("retrain", "fraud", "--json")
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "gate_failed" and "min.accuracy" in outcome["reason"] and outcome["version"] == 3
    assert [s["stage"] for s in outcome["stages"]] == ["start", "train", "end"]
    # started by an alert's retrain action: the alert's variables name the rule and the window's dataset version
    alerted = cli("retrain", "fraud", "--json", STEWARD_ALERT_RULE="fraud-drift", STEWARD_ALERT_DATASET="fraud-fresh:1")
    assert alerted.exit_code == 1 and json.loads(alerted.stdout)["status"] == "gate_failed"
    events = json.loads(cli("models", "timeline", "fraud", "--json").stdout)["events"]
    started = [e["details"] for e in events if e["kind"] == "retraining started"]
    assert [(d["trigger"], d["data"]) for d in started] == [("manual", "datasets:/fraud-fresh/1"), ("alert:fraud-drift", "datasets:/fraud-fresh/1")]
    assert [e["kind"] for e in events].count("retraining ended") == 2
    champion = json.loads(cli("models", "show", "fraud@champion", "--json").stdout)
    assert champion["version"] == 1  # the failed candidates never replaced it
    bad = cli("retrain", "fraud", "--file", str(tmp_path / "nope.yaml"))
    assert bad.exit_code == 2 and "needs train" in bad.output


def test_retrain_waits_for_an_approval_and_resumes_in_both_modes(any_cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = any_cli
    _seed(home)
    (tmp_path / "gate.yaml").write_text("min: {accuracy: 0.6}\n")
    (tmp_path / "cli_retrain_good.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\n"
        "def train(frame, target, params):\n"
        "    return LogisticRegression(C=params['C']).fit(frame.drop(columns=[target]), frame[target])\n"
    )
    (tmp_path / "steward.yaml").write_text(
        "retrain:\n  fraud:\n    train: cli_retrain_good:train\n    data: fraud-fresh\n    target: label\n    gate: gate.yaml\n    params: {C: 0.5}\n"
    )
    monkeypatch.chdir(tmp_path)
    waiting = cli("retrain", "fraud", "--json")
    assert waiting.exit_code == 0, waiting.output
    outcome = json.loads(waiting.stdout)
    assert outcome["status"] == "awaiting_approval" and outcome["version"] == 3
    assert [s["stage"] for s in outcome["stages"]] == ["start", "train", "register", "approval"]
    assert cli("models", "approve", "fraud:3", "--comment", "gate passed").exit_code == 0
    resumed = cli("retrain", "fraud", "--resume", "3", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["status"] == "registered"  # no deployment to canary it on
    events = json.loads(cli("models", "timeline", "fraud", "--json").stdout)["events"]
    kinds = [e["kind"] for e in events]
    assert kinds.count("retraining started") == 1 and kinds.count("retraining ended") == 1
    assert cli("retrain", "fraud", "--resume", "9").exit_code == 3  # no such version
