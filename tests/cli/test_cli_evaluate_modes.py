"""``steward evaluate``, ``steward gate`` (exit 1 on failure, ``--override``) and ``steward
models card``, embedded and against a live server (the ``any_cli`` fixture)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testing import Cli, client_settings

from steward import Client
from steward.wiring import build_services

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluation"))
from evaluation_testing import World, fraud_frame, register_models


@pytest.fixture
def world(home: Path) -> Iterator[World]:
    """``holdout:1`` and two versions of ``fraud`` (the weak one is the champion), in ``home``."""
    settings = client_settings(home)
    services = build_services(settings)
    client = Client(settings)
    try:
        yield register_models(client, services)
    finally:
        client.close()
        services.close()


def test_evaluate_prints_tables_and_json_the_same_way(any_cli: Cli, world: World, tmp_path: Path) -> None:
    out = any_cli("evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "label", "--slice", "sex", "--no-latency")
    assert out.exit_code == 0, out.output
    assert "roc_auc" in out.stdout and "Slices" in out.stdout and "Edge inputs" in out.stdout
    report = tmp_path / "report"
    as_json = any_cli(
        "evaluate", "fraud@champion", "--data", "datasets:/holdout/1", "--target", "label", "--sensitive", "sex", "--no-latency",
        "--json", "--out", str(report),
    )
    doc = json.loads(as_json.stdout)
    assert doc["model"] == f"fraud:{world.weak}" and doc["dataset_ref"] == "datasets:/holdout/1"
    assert doc["fairness"]["attribute"] == "sex" and doc["metrics"]["roc_auc"] > 0.5
    assert json.loads((report / "evaluation.json").read_text())["id"] == doc["id"]


def test_evaluate_errors_name_the_fault_with_the_error_tree_codes(any_cli: Cli, world: World) -> None:
    column = any_cli("evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "fraudulent")
    assert column.exit_code == 2 and "no target column 'fraudulent'" in column.stderr and "Traceback" not in column.output
    assert any_cli("evaluate", "fraud:9", "--data", "holdout:1", "--target", "label").exit_code == 3
    assert any_cli("evaluate", f"fraud:{world.strong}", "--data", "holdout:7", "--target", "label").exit_code == 3


def test_a_local_data_file_is_evaluated_and_against_a_server_kept_as_a_dataset_version(
    any_cli: Cli, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "fresh holdout.csv"
    fraud_frame(rows=200, seed=9).to_csv(path, index=False)
    out = any_cli("evaluate", f"fraud:{world.strong}", "--data", str(path), "--target", "label", "--no-latency", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["rows"] == 200
    if any_cli.remote:
        # the server keeps what it evaluated on: the file became a dataset version
        assert doc["dataset_ref"] == "datasets:/fresh-holdout/1" and doc["dataset_hash"]
        again = json.loads(any_cli("evaluate", f"fraud:{world.strong}", "--data", str(path), "--target", "label", "--no-latency", "--json").stdout)
        assert again["dataset_ref"] == "datasets:/fresh-holdout/1"  # same content, same version
    else:
        assert doc["dataset_ref"] == f"file:{path.resolve()}"
    other = tmp_path / "data.txt"
    other.write_text("amount,label\n1,0\n")
    refused = any_cli("evaluate", f"fraud:{world.strong}", "--data", str(other), "--target", "label")
    assert refused.exit_code == 2 and "Traceback" not in refused.output


def test_gate_exits_1_on_failure_and_an_override_needs_an_admin(any_cli: Cli, world: World, home: Path, tmp_path: Path) -> None:
    policy = tmp_path / "gate.yaml"
    policy.write_text("min: {roc_auc: 0.999}\nbeat_champion: {metric: roc_auc, min_delta: 0.005}\n")
    out = any_cli("gate", f"fraud:{world.strong}", "--policy", str(policy), "--data", "holdout:1", "--target", "label")
    assert out.exit_code == 1, out.output
    assert "Gate FAILED" in out.stdout and "min.roc_auc" in out.stdout and f"against fraud:{world.weak}" in out.stdout
    as_json = any_cli("gate", f"fraud:{world.strong}", "--policy", str(policy), "--data", "holdout:1", "--target", "label", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["passed"] is False
    denied = any_cli("gate", f"fraud:{world.strong}", "--override", "--reason", "accepted by the risk board")
    assert denied.exit_code == 4 and "only an administrator" in denied.stderr
    services = build_services(client_settings(home))
    try:
        services.governance("setup").create_user("boss", "boss@example.com", is_admin=True)
    finally:
        services.close()
    waived = any_cli("gate", f"fraud:{world.strong}", "--override", "--reason", "accepted by the risk board", STEWARD_USER="boss")
    assert waived.exit_code == 0 and "overridden by boss" in waived.stdout
    short = any_cli("gate", f"fraud:{world.strong}", "--override", "--reason", "ok", STEWARD_USER="boss")
    assert short.exit_code == 2 and "at least 10 characters" in short.stderr
    passing = tmp_path / "easy.yaml"
    passing.write_text("min: {roc_auc: 0.5}\n")
    ok = any_cli("gate", f"fraud:{world.strong}", "--policy", str(passing), "--data", "holdout:1", "--target", "label")
    assert ok.exit_code == 0 and "Gate PASSED" in ok.stdout


def test_gate_refuses_a_policy_naming_an_unknown_metric_by_line(any_cli: Cli, world: World, tmp_path: Path) -> None:
    policy = tmp_path / "gate.yaml"
    policy.write_text("# candidates must be good\nmin:\n  auroc: 0.9\n")
    out = any_cli("gate", f"fraud:{world.strong}", "--policy", str(policy), "--data", "holdout:1", "--target", "label")
    assert out.exit_code == 2
    assert "gate policy line 3" in out.stderr and "unknown metric 'auroc'" in out.stderr and "roc_auc" in out.stderr
    assert any_cli("gate", f"fraud:{world.strong}", "--policy", str(tmp_path / "none.yaml"), "--data", "holdout:1", "--target", "label").exit_code == 3


def test_models_card_writes_markdown_and_html_the_same_way(any_cli: Cli, world: World, tmp_path: Path) -> None:
    out_dir = tmp_path / "card"
    out = any_cli("models", "card", f"fraud:{world.strong}", "--set", "intended_use=Flag risky payments", "--out", str(out_dir))
    assert out.exit_code == 0, out.output
    md = (out_dir / "MODEL_CARD.md").read_text()
    assert "Flag risky payments" in md and "Not evaluated yet" in md
    assert (out_dir / "model_card.html").read_text().startswith("<!DOCTYPE html>")
    assert any_cli("evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "label", "--no-latency").exit_code == 0
    doc = json.loads(any_cli("models", "card", "fraud@champion", "--json").stdout)
    assert doc and "Flag risky payments" not in json.dumps(doc)  # the champion is the other version
    printed = any_cli("models", "card", f"fraud:{world.strong}")
    assert printed.exit_code == 0 and "Flag risky payments" in printed.stdout and "Not evaluated yet" not in printed.stdout
    bad = any_cli("models", "card", f"fraud:{world.strong}", "--set", "nonsense")
    assert bad.exit_code == 2 and "--set takes" in bad.stderr
    unknown = any_cli("models", "card", f"fraud:{world.strong}", "--set", "colour=blue")
    assert unknown.exit_code == 2 and "unknown card field 'colour'" in unknown.stderr


def test_trusted_models_are_refused_by_a_server_but_not_embedded(any_cli: Cli, world: World) -> None:
    out = any_cli("evaluate", f"fraud:{world.strong}", "--data", "holdout:1", "--target", "label", "--no-latency", "--trusted")
    if any_cli.remote:
        assert out.exit_code == 2 and "--trusted works on the embedded store only" in out.stderr
    else:
        assert out.exit_code == 0, out.output
