"""``steward models timeline``, embedded and against a live server: what the CLI did
(approve, alias, deploy, canary, promote, rollback) comes back in order with actor and evidence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from cli_testing import Cli, client_settings

from steward import Client


def _register_two_versions(home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(client_settings(home, capture_packages=False))
    try:
        with client.start_run("timeline-cli") as run:
            for _ in range(2):
                run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    finally:
        client.close()


def test_the_timeline_shows_what_the_cli_did_in_order(any_cli: Cli, home: Path) -> None:
    _register_two_versions(home)
    for args in (
        ("models", "approve", "fraud:1", "--comment", "baseline"),
        ("models", "approve", "fraud:2", "--comment", "better"),
        ("models", "alias", "fraud:1", "champion"),
        ("deploy", "create", "fraud-api", "--model", "fraud@champion", "--reason", "launch"),
        ("deploy", "canary", "fraud-api", "--model", "fraud:2", "--percent", "10", "--reason", "try v2"),
        ("deploy", "promote", "fraud-api", "--reason", "healthy"),
        ("deploy", "rollback", "fraud-api", "--reason", "complaints"),
    ):
        result = any_cli(*args)
        assert result.exit_code == 0, (args, result.output)
    result = any_cli("models", "timeline", "fraud", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    story = [(e["kind"], e["versions"]) for e in doc["events"] if not e["action"].startswith(("runs.log", "runs.update"))]
    tail = story[-7:]
    assert tail == [
        ("approved", [1]), ("approved", [2]), ("alias set", [1]),
        ("deployment create", [1]), ("deployment canary", [1, 2]), ("deployment promote", [1, 2]), ("deployment rollback", [1]),
    ], story
    canary = next(e for e in doc["events"] if e["kind"] == "deployment canary")
    assert canary["details"]["reason"] == "try v2" and canary["target"] == "deployments:/fraud-api"
    table = any_cli("models", "timeline", "fraud")
    assert table.exit_code == 0, table.output
    assert "deployment rollback" in table.stdout and "fraud:1=90% fraud:2=10%" in table.stdout
    paged = any_cli("models", "timeline", "fraud", "--max-results", "2", "--json")
    assert json.loads(paged.stdout)["next_after"] == doc["events"][1]["entry_id"]


def test_an_unknown_model_exits_3_with_one_line(any_cli: Cli) -> None:
    result = any_cli("models", "timeline", "nope")
    assert result.exit_code == 3, result.output
    assert "nope" in result.output and "Traceback" not in result.output
