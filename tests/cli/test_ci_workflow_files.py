"""The example CI workflows under docs/ci/ run: every ``steward ...`` command of
github-actions.yml and gitlab-ci.yml, in order, against a temporary store (embedded, and
through a live server), with the exit codes and the Markdown summary CI relies on."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_testing import Cli, client_settings

from steward import Client
from steward.wiring import build_services

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"


def _steward_lines(script: str) -> list[list[str]]:
    commands = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["steward"]:
            commands.append(words[1:])
    return commands


def workflow_commands(name: str) -> dict[str, list[list[str]]]:
    """job -> the ``steward`` commands of its steps (GitHub ``run:``, GitLab ``script:``), in order."""
    document = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
    found: dict[str, list[list[str]]] = {}
    if "jobs" in document:  # GitHub Actions
        for job, spec in document["jobs"].items():
            found[job] = [c for step in spec["steps"] if "run" in step for c in _steward_lines(step["run"])]
    else:  # GitLab CI: every mapping with a script is a job
        for job, spec in document.items():
            if isinstance(spec, dict) and "script" in spec:
                found[job] = [c for line in spec["script"] for c in _steward_lines(line)]
    return found


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0, 10.0, rows)
    return pd.DataFrame({"amount": amount, "label": (amount + rng.normal(0, 3, rows) > 100).astype(int)})


def _repository(root: Path) -> None:
    """What the workflows expect in the checked-out repository: data files and the ci/ files."""
    (root / "data").mkdir(parents=True)
    _frame(1000, 0).to_parquet(root / "data" / "transactions.parquet")
    _frame(400, 1).to_parquet(root / "data" / "holdout.parquet")
    (root / "ci").mkdir()
    for name in ("transactions-suite.yml", "gate-policy.yml"):
        shutil.copy(DOCS / name, root / "ci" / name)


def _train(home: Path) -> None:
    """``python train.py``: a model trained on the data, registered as a new version of fraud."""
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_parquet(Path("data") / "transactions.parquet")
    client = Client(client_settings(home))
    try:
        with client.start_run("ci") as run:
            run.log_model(LogisticRegression().fit(frame[["amount"]], frame["label"]), "model", registered_model_name="fraud")
    finally:
        client.close()


@pytest.mark.parametrize("workflow", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_example_workflows_commands_run_with_the_exit_codes_ci_relies_on(
    any_cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workflow: str
) -> None:
    jobs = workflow_commands(workflow)
    check, deploy = (jobs["check"], jobs["deploy"])
    assert [c[:2] for c in check] == [["ci", "validate-data"], ["ci", "gate"], ["ci", "package"]]
    assert [c[:2] for c in deploy] == [["ci", "deploy"]]
    repo = tmp_path / "repo"
    _repository(repo)
    monkeypatch.chdir(repo)
    _train(home)  # the workflow's non-steward step, before the gate
    for command in check:
        result = any_cli(*command)
        assert result.exit_code == 0, (command, result.output)
    assert (repo / "bundle" / "MANIFEST.json").is_file()
    # not approved yet: nothing deployed, exit 5, and the summary says what to do
    waiting = any_cli(*deploy[0])
    assert waiting.exit_code == 5, waiting.output
    summary = (repo / "steward-summary.md").read_text(encoding="utf-8")
    assert "Data validation passed" in summary and "Gates passed" in summary and "Packaged `fraud:1`" in summary
    assert "`fraud:1` is waiting for approval" in summary and "steward models approve fraud:1" in summary
    services = build_services(client_settings(home))
    try:
        services.registry("reviewer").approve("fraud", 1, comment="gates passed, reviewed the card")
    finally:
        services.close()
    deployed = any_cli(*deploy[0])
    assert deployed.exit_code == 0, deployed.output
    assert "Deployed `fraud:1` to `fraud-api` (created)" in (repo / "steward-summary.md").read_text(encoding="utf-8")
    # a second run of the deploy job switches the existing deployment
    again = any_cli(*deploy[0], "--json")
    assert again.exit_code == 0 and '"how": "switched"' in again.stdout
