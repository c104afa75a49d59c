"""``steward pipeline run`` with no file runs the pipeline of ./steward.yaml (embedded and
against a live server); ``steward check steward.yaml`` checks its pipelines: section, each
fault on a line of its own naming the line, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testing import Cli

STEPS = '''
def prepare(n: int):
    return list(range(n))

def train(rows, c: float):
    return sum(rows) * c
'''

PROJECT = '''pipelines:
  demo:
    params: {n: 3, c: 1.0}
    steps:
      prepare:
        function: cli_project_steps:prepare
        params: {n: $n}
      train:
        function: cli_project_steps:train
        inputs: {rows: prepare}
        params: {c: $c}
        isolate: true
'''


def test_pipeline_run_without_a_file_uses_steward_yaml(any_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_project_steps.py").write_text(STEPS)
    (tmp_path / "steward.yaml").write_text(PROJECT)
    monkeypatch.chdir(tmp_path)
    first = any_cli("pipeline", "run", "--param", "c=2", "--json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["pipeline"] == "demo" and [(s["name"], s["status"]) for s in doc["steps"]] == [("prepare", "ran"), ("train", "ran")]
    again = any_cli("pipeline", "run", "steward.yaml", "--name", "demo", "-p", "c=2")
    assert again.exit_code == 0 and "2 steps, 2 cached" in again.stdout
    checked = any_cli("check", "steward.yaml")
    assert checked.exit_code == 0 and "valid project file" in checked.stdout


def test_check_and_run_name_the_line_of_each_fault(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("pipeline", "run").exit_code == 3  # no steward.yaml here
    (tmp_path / "steward.yaml").write_text(PROJECT.replace("isolate: true", "isolate: true\n        timeout: soon").replace("rows: prepare", "rows: prep"))
    checked = cli("check", "steward.yaml")
    assert checked.exit_code == 1
    assert "steward.yaml:13: pipelines.demo.steps.train.timeout: 'soon' is not a duration" in checked.output
    as_json = json.loads(cli("check", "steward.yaml", "--json").stdout)
    assert as_json["valid"] is False and [e["line"] for e in as_json["errors"]] == [13]
    run = cli("pipeline", "run")
    assert run.exit_code == 2 and "steward.yaml:13:" in run.output and "Traceback" not in run.output
    (tmp_path / "steward.yaml").write_text(PROJECT.replace("rows: prepare", "rows: prep"))
    assert "steward.yaml:10: pipelines.demo.steps.train.inputs.rows: no step 'prep'" in cli("check", "steward.yaml").output
