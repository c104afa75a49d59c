"""``steward pipeline run FILE``, embedded and against a live server: a second run says its
unchanged steps were cached; a changed --param re-runs what depends on it; a failing step
exits 1 naming it; bad --param and a missing file are usage errors, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from cli_testing import Cli

TRAIN = '''
import steward

@steward.step
def prepare(n: int):
    return list(range(n))

@steward.step
def train(rows, c: float):
    if c < 0:
        raise ValueError("c must be positive")
    return sum(rows) * c

@steward.pipeline
def demo(n: int = 5, c: float = 1.0):
    return train(prepare(n), c)
'''


def test_a_second_run_says_its_steps_were_cached_and_a_changed_param_reruns(any_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    first = any_cli("pipeline", "run", str(path), "--param", "n=4", "--json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [("prepare", "ran"), ("train", "ran")]
    second = any_cli("pipeline", "run", str(path), "--param", "n=4")
    assert second.exit_code == 0, second.output
    assert "cached" in second.stdout and "2 steps, 2 cached" in second.stdout
    changed = any_cli("pipeline", "run", str(path), "-p", "n=4", "-p", "c=2.5", "--json")
    assert [(s["name"], s["status"]) for s in json.loads(changed.stdout)["steps"]] == [("prepare", "cached"), ("train", "ran")]
    runs = any_cli("runs", "list", "--experiment", "demo", "--json")
    assert runs.exit_code == 0, runs.output


def test_a_failing_step_exits_1_naming_it(any_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    result = any_cli("pipeline", "run", str(path), "--param", "c=-1")
    assert result.exit_code == 1, result.output
    assert "step train failed: ValueError: c must be positive" in result.output and "Traceback" not in result.output


def test_bad_params_and_missing_files_are_usage_errors(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    for args, code in (
        (("pipeline", "run", str(path), "--param", "no-equals"), 2),
        (("pipeline", "run", str(path), "--param", "nope=1"), 2),
        (("pipeline", "run", str(tmp_path / "missing.py")), 3),
    ):
        result = cli(*args)
        assert result.exit_code == code, (args, result.output)
        assert "Traceback" not in result.output


def test_a_dataset_parameter_is_looked_up_keyed_by_content_and_logged_as_input(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    import pandas as pd
    from cli_testing import client_settings

    from steward import Client

    client = Client(client_settings(home, capture_packages=False))
    try:
        for rows in (3, 4):
            client.data.register("transactions", pd.DataFrame({"amount": range(rows)}))
    finally:
        client.close()
    path = tmp_path / "flow.py"
    path.write_text(
        "from __future__ import annotations\nimport steward\nfrom steward.data import DatasetVersion\n\n"
        "@steward.step\ndef rows(data):\n    return data.num_rows\n\n"
        "@steward.pipeline\ndef flow(data: DatasetVersion = 'transactions:1'):\n    return rows(data)\n"
    )
    assert any_cli("pipeline", "run", str(path), "--json").exit_code == 0
    same = json.loads(any_cli("pipeline", "run", str(path), "--param", "data=transactions:1", "--json").stdout)
    assert [s["status"] for s in same["steps"]] == ["cached"]
    other = any_cli("pipeline", "run", str(path), "--param", "data=transactions:2", "--json")
    assert other.exit_code == 0, other.output
    [step] = json.loads(other.stdout)["steps"]
    assert step["status"] == "ran"
    shown = any_cli("runs", "show", step["run_id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert "datasets:/transactions/2" in shown.stdout
