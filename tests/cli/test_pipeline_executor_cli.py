"""``steward pipeline run --executor dask --scheduler local`` and isolated steps from the CLI,
embedded and against a live server: the Dask run's steps are cache hits for the local
executor; a timed-out isolated step exits 1 naming the step, the limit and the attempts."""

from __future__ import annotations

import json
from pathlib import Path

from cli_testing import Cli

FLOWS = '''
import time
import steward

@steward.step
def prepare(n: int):
    return list(range(n))

@steward.step
def double(rows):
    return [r * 2 for r in rows]

@steward.step
def shift(rows):
    return [r + 1 for r in rows]

@steward.step(timeout="1s", retries=1, retry_backoff="10ms")
def combine(a, b, hang: bool):
    if hang:
        time.sleep(60)
    return sum(a) + sum(b)

@steward.pipeline
def flows(n: int = 3, hang: bool = False):
    rows = prepare(n)
    return combine(double(rows), shift(rows), hang)
'''


def test_the_dask_executor_and_the_local_one_share_the_cache(any_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    on_dask = any_cli("pipeline", "run", str(path), "--executor", "dask", "--scheduler", "local", "--json")
    assert on_dask.exit_code == 0, on_dask.output
    doc = json.loads(on_dask.stdout)
    assert sorted((s["name"], s["status"]) for s in doc["steps"]) == [
        ("combine", "ran"), ("double", "ran"), ("prepare", "ran"), ("shift", "ran"),
    ]
    local = any_cli("pipeline", "run", str(path), "--json")
    assert [s["status"] for s in json.loads(local.stdout)["steps"]] == ["cached"] * 4
    hung = any_cli("pipeline", "run", str(path), "-p", "hang=true")
    assert hung.exit_code == 1, hung.output
    assert "step combine failed: TimeoutError: step combine exceeded its time limit of 1s" in hung.output
    assert "(attempt 2 of 2)" in hung.output and "Traceback" not in hung.output


def test_a_bad_executor_or_a_missing_scheduler_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    assert cli("pipeline", "run", str(path), "--executor", "ray").exit_code == 2
    missing = cli("pipeline", "run", str(path), "--executor", "dask")
    assert missing.exit_code == 2 and "--scheduler" in missing.output
