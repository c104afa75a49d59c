"""``steward ci`` verbs when a check fails or a step errs: exit 1 for a failed check, the
convention's codes otherwise, and a Markdown summary that says which and why (by default in
``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_testing import Cli, client_settings

from steward import Client
from steward.wiring import build_services

SUITE = "name: transactions\ncolumns:\n  amount: {type: float, nullable: false, min: 0}\n  label: {type: integer}\n"


def _frame(rows: int, seed: int, *, negative: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0, 10.0, rows)
    if negative:
        amount[:3] = -5.0
    return pd.DataFrame({"amount": amount, "label": (amount + rng.normal(0.0, 8.0, rows) > 100).astype(int)})


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "suite.yml").write_text(SUITE, encoding="utf-8")
    _frame(300, 0).to_parquet(tmp_path / "good.parquet")
    _frame(300, 1, negative=True).to_parquet(tmp_path / "bad.parquet")
    _frame(200, 2).to_parquet(tmp_path / "holdout.parquet")
    return tmp_path


def _register(home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = _frame(300, 0)
    client = Client(client_settings(home))
    try:
        with client.start_run("ci") as run:
            run.log_model(LogisticRegression().fit(frame[["amount"]], frame["label"]), "model", registered_model_name="fraud")
    finally:
        client.close()


def test_a_failing_validation_exits_1_and_the_summary_lists_the_failing_checks(cli: Cli, files: Path) -> None:
    summary = files / "step-summary.md"
    result = cli("ci", "validate-data", str(files / "bad.parquet"), "--suite", str(files / "suite.yml"), GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 1, result.output
    text = summary.read_text(encoding="utf-8")
    assert ":x: Data validation failed" in text and "| status | severity | check |" in text and "amount" in text
    passed = cli("ci", "validate-data", str(files / "good.parquet"), "--suite", str(files / "suite.yml"), "--summary", str(summary))
    assert passed.exit_code == 0, passed.output
    assert summary.read_text(encoding="utf-8").count("### ") == 2  # appended, as GitHub's file is


def test_a_failing_gate_exits_1_with_the_gates_in_the_summary(cli: Cli, home: Path, files: Path) -> None:
    _register(home)
    policy = files / "policy.yml"
    policy.write_text("min: {roc_auc: 0.99}\n", encoding="utf-8")
    summary = files / "summary.md"
    result = cli("ci", "gate", "fraud@latest", "--policy", str(policy), "--data", str(files / "holdout.parquet"), "--target", "label", "--summary", str(summary))
    assert result.exit_code == 1, result.output
    text = summary.read_text(encoding="utf-8")
    assert ":x: Gates failed: `fraud:1`" in text and "**FAIL**" in text and "roc_auc" in text


def test_errors_keep_their_exit_codes_and_are_summarised(cli: Cli, home: Path, files: Path) -> None:
    summary = files / "summary.md"
    missing = cli("ci", "deploy", "fraud-api", "--model", "nosuch:1", "--summary", str(summary))
    assert missing.exit_code == 3 and "Traceback" not in missing.output
    assert ":x: Deployment: error" in summary.read_text(encoding="utf-8") and "NOT_FOUND" in summary.read_text(encoding="utf-8")
    _register(home)
    services = build_services(client_settings(home))
    try:
        services.registry("reviewer").retire("fraud", 1, comment="superseded")
    finally:
        services.close()
    retired = cli("ci", "deploy", "fraud-api", "--model", "fraud:1", "--summary", str(summary))
    assert retired.exit_code == 5 and "retired" in retired.output and "waiting for approval" not in retired.output
    bad_name = cli("ci", "deploy", "Fraud API", "--model", "fraud:1")
    assert bad_name.exit_code == 2
    no_policy = cli("ci", "gate", "fraud:1", "--policy", str(files / "none.yml"), "--data", "x:1", "--target", "label")
    assert no_policy.exit_code == 3


def test_the_waiting_deploy_says_so_in_json_too(cli: Cli, home: Path) -> None:
    _register(home)
    result = cli("ci", "deploy", "fraud-api", "--model", "fraud@latest", "--json")
    assert result.exit_code == 5
    assert '"waiting_for_approval": true' in result.stdout and '"model": "fraud:1"' in result.stdout
