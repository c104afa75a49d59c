"""``steward evaluate``, ``steward gate`` (exit 1 on failure, --override) and
``steward models card`` on an embedded store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from evaluation_testing import World, register_models
from typer.testing import CliRunner, Result

from steward import Client, Settings
from steward.cli import app
from steward.wiring import build_services


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(home: Path) -> dict[str, str | None]:
    values: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    values.update({"STEWARD_HOME": str(home), "STEWARD_USER": "tester", "STEWARD_CAPTURE_GIT": "false", "NO_COLOR": "1", "COLUMNS": "250"})
    return values


@pytest.fixture
def world(home: Path) -> Iterator[World]:
    settings = Settings(home=home, user="tester", capture_git=False, capture_packages=False)
    services = build_services(settings)
    client = Client(settings)
    try:
        yield register_models(client, services)
    finally:
        client.close()
        services.close()


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_evaluate_prints_tables_and_json(env: dict[str, str | None], world: World) -> None:
    out = run(env, "evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "label", "--slice", "sex", "--no-latency")
    assert out.exit_code == 0, out.output
    assert "roc_auc" in out.output and "Slices" in out.output and "Edge inputs" in out.output
    as_json = run(env, "evaluate", f"fraud:{world.strong}", "--data", "datasets:/holdout/1", "--target", "label", "--sensitive", "sex", "--no-latency", "--json")
    doc = json.loads(as_json.stdout)
    assert doc["dataset_ref"] == "datasets:/holdout/1" and doc["fairness"]["attribute"] == "sex"


def test_evaluate_with_an_unknown_column_exits_2_naming_it(env: dict[str, str | None], world: World) -> None:
    out = run(env, "evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "fraudulent")
    assert out.exit_code == 2 and "no target column 'fraudulent'" in out.output and "Traceback" not in out.output


def test_gate_exits_1_on_failure_and_an_override_needs_an_admin(env: dict[str, str | None], world: World, tmp_path: Path) -> None:
    policy = tmp_path / "gate.yaml"
    policy.write_text("min: {roc_auc: 0.999}\nbeat_champion: {metric: roc_auc, min_delta: 0.005}\n")
    out = run(env, "gate", f"fraud:{world.strong}", "--policy", str(policy), "--data", "holdout:1", "--target", "label")
    assert out.exit_code == 1, out.output
    assert "Gate FAILED" in out.output and "min.roc_auc" in out.output and f"against fraud:{world.weak}" in out.output
    denied = run(env, "gate", f"fraud:{world.strong}", "--override", "--reason", "accepted by the risk board")
    assert denied.exit_code == 4 and "only an administrator" in denied.output
    assert run(env, "users", "create", "boss", "--email", "boss@example.com", "--admin").exit_code == 0
    waived = run({**env, "STEWARD_USER": "boss"}, "gate", f"fraud:{world.strong}", "--override", "--reason", "accepted by the risk board")
    assert waived.exit_code == 0 and "overridden by boss" in waived.output


def test_gate_refuses_a_policy_naming_an_unknown_metric(env: dict[str, str | None], world: World, tmp_path: Path) -> None:
    policy = tmp_path / "gate.yaml"
    policy.write_text("# candidates must be good\nmin:\n  auroc: 0.9\n")
    out = run(env, "gate", f"fraud:{world.strong}", "--policy", str(policy), "--data", "holdout:1", "--target", "label")
    assert out.exit_code == 2
    assert "gate policy line 3" in out.output and "unknown metric 'auroc'" in out.output and "roc_auc" in out.output


def test_models_card_writes_markdown_and_html(env: dict[str, str | None], world: World, tmp_path: Path) -> None:
    out_dir = tmp_path / "card"
    out = run(env, "models", "card", f"fraud:{world.strong}", "--set", "intended_use=Flag risky payments", "--out", str(out_dir))
    assert out.exit_code == 0, out.output
    md = (out_dir / "MODEL_CARD.md").read_text()
    assert "Flag risky payments" in md and "Not evaluated yet" in md
    assert (out_dir / "model_card.html").read_text().startswith("<!DOCTYPE html>")
    bad = run(env, "models", "card", f"fraud:{world.strong}", "--set", "nonsense")
    assert bad.exit_code == 2 and "--set takes" in bad.output
