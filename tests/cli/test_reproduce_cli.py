"""``steward reproduce RUN_ID``, embedded and against a live server (the run is read from the
server, the command runs here): a run made by a small training script in a temporary git
repository, from a dirty tree, reproduces with the same metrics (its diff applied in a
temporary worktree); a newer dataset version is not read (a bare name reads the recorded
version) and a seed drawn afresh is replaced by the recorded one, so such a run reproduces too;
with --latest-data a new dataset version with other content is named and exits 1; a metric
outside the tolerance exits 1, inside ``--tolerance`` it matches; package differences are named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_testing import Cli, client_settings

from steward import Client
from steward.pipelines._reproduce import compare_packages

TRAIN = '''
import os
import random
import sys

from steward import Client

SCALE = 1.0

client = Client()
data = client.data.get("toy")  # the latest version
frame = client.data.load(data.ref)
c = float(sys.argv[1])
with client.start_run("repro", params={"c": c}, seed=7) as run:
    run.log_input(data)
    run.log_metric("score", float(frame["x"].sum()) * c * SCALE + random.random())
    run.log_metric("jitter", float(os.environ.get("JITTER", "1")))
    print(run.run_id)
'''


def _clean_env() -> dict[str, str]:
    """This environment without STEWARD_* and without what would point git elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_") and k not in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE")}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=_clean_env())


@pytest.fixture
def repo(tmp_path: Path, home: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "t")
    (root / "train.py").write_text(TRAIN)
    _git(root, "add", "train.py")
    _git(root, "commit", "-q", "-m", "train")
    client = Client(client_settings(home))
    try:
        client.data.register("toy", pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    finally:
        client.close()
    return root


def _train(cli: Cli, repo: Path, *args: str, script: str = "train.py", **extra: str) -> str:
    env = _clean_env()
    env.update({k: v for k, v in cli.env.items() if v is not None})
    env.update({"STEWARD_CAPTURE_GIT": "true", "STEWARD_CAPTURE_PACKAGES": "true", **extra})
    done = subprocess.run([sys.executable, script, *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_run_from_a_dirty_tree_reproduces_with_the_same_metrics(any_cli: Cli, repo: Path) -> None:
    committed = (repo / "train.py").read_text()
    (repo / "train.py").write_text(committed.replace("SCALE = 1.0", "SCALE = 3.0"))  # not committed: the run is dirty
    run_id = _train(any_cli, repo, "2.0")
    (repo / "train.py").write_text(committed)  # the tree is clean again: only the recorded diff brings SCALE = 3 back
    result = any_cli("reproduce", run_id, "--repo", str(repo), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["matches"] is True and doc["dirty"] is True and doc["diff_applied"] is True
    assert [(m["key"], m["matches"]) for m in doc["metrics"]] == [("jitter", True), ("score", True)]
    score = next(m for m in doc["metrics"] if m["key"] == "score")
    assert score["recorded"] == score["reproduced"] and score["recorded"] > 36  # 6 * 2 * 3 + the seeded random
    assert [(d["name"], d["changed"]) for d in doc["datasets"]] == [("toy", False)]
    assert doc["reproduced_run_id"] not in (None, run_id) and doc["params"] == [] and doc["seed"] == []
    assert doc["packages"] == []
    text = any_cli("reproduce", run_id, "--repo", str(repo))
    assert text.exit_code == 0 and "reproduced: metrics match" in text.stdout


def test_a_changed_dataset_is_named_and_a_mismatch_exits_1(any_cli: Cli, repo: Path, home: Path) -> None:
    run_id = _train(any_cli, repo, "1.0", JITTER="1.5")
    # the metric that depends on something outside the run's record differs
    jittered = any_cli("reproduce", run_id, "--repo", str(repo), "--json")
    assert jittered.exit_code == 1, jittered.output
    doc = json.loads(jittered.stdout)
    assert doc["matches"] is False and {m["key"]: m["matches"] for m in doc["metrics"]} == {"jitter": False, "score": True}
    assert any_cli("reproduce", run_id, "--repo", str(repo), "--tolerance", "0.5", "--json").exit_code == 0  # |1.5-1| <= 0.5*1.5
    client = Client(client_settings(home))
    try:
        client.data.register("toy", pd.DataFrame({"x": [10.0, 20.0, 30.0]}))
    finally:
        client.close()
    # by default the re-run reads the recorded version (see the next test); --latest-data lets
    # the script's bare name read the newest, as a fresh run would, and the change is named
    changed = any_cli("reproduce", run_id, "--repo", str(repo), "--tolerance", "0.5", "--latest-data")
    assert changed.exit_code == 1, changed.output
    assert "dataset toy changed: recorded datasets:/toy/1" in changed.stdout and "re-run used datasets:/toy/2" in changed.stdout
    assert "score" in changed.stdout and "DIFFERS" in changed.stdout and "Traceback" not in changed.output


def test_a_newer_dataset_version_and_an_unrecorded_seed_still_reproduce(any_cli: Cli, repo: Path, home: Path) -> None:
    # the script draws a fresh seed each time; it reads its data by bare name (the latest)
    fresh = TRAIN.replace("seed=7", "seed=random.SystemRandom().randrange(2**32)")
    (repo / "fresh.py").write_text(fresh)
    _git(repo, "add", "fresh.py")
    _git(repo, "commit", "-q", "-m", "fresh")
    run_id = _train(any_cli, repo, "1.0", script="fresh.py")
    client = Client(client_settings(home))
    try:
        client.data.register("toy", pd.DataFrame({"x": [10.0, 20.0, 30.0]}))  # newer, other content
    finally:
        client.close()
    result = any_cli("reproduce", run_id, "--repo", str(repo))
    assert result.exit_code == 0, result.output
    # the same seed (STEWARD_SEED), so the same random draw; the recorded toy:1, not toy:2
    assert "reproduced: metrics match" in result.stdout and "DIFFERS" not in result.stdout
    assert "dataset toy: re-run used the recorded version datasets:/toy/1 (pinned; the latest is datasets:/toy/2)" in result.stdout


def test_a_run_without_a_commit_or_an_unknown_run_is_refused(cli: Cli, home: Path, tmp_path: Path) -> None:
    client = Client(client_settings(home))
    try:
        with client.start_run("plain") as run:
            pass
    finally:
        client.close()
    refused = cli("reproduce", run.run_id)
    assert refused.exit_code == 2 and "records no git commit" in refused.output
    assert cli("reproduce", "0" * 32).exit_code == 3


def test_package_differences_are_named() -> None:
    recorded = "numpy==1.26.0\npandas==2.2.0\nold==1.0\n"
    current = "numpy==2.0.0\npandas==2.2.0\nnew==0.1\n"
    assert compare_packages(recorded, current) == [
        "new: not recorded, 0.1 installed now", "numpy: recorded 1.26.0, now 2.0.0", "old: recorded 1.0, not installed now",
    ]
