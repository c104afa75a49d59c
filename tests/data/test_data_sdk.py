"""The module-level data functions run on the default client in a fresh process: embedded, and against a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = """
import json, steward, steward.data, polars as pl
frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
first = steward.data.register("tx", frame)
again = steward.data.register("tx", frame.to_pandas())
with steward.start_run("e") as run:
    run.log_input(first, role="train")
lineage = steward.data.lineage("tx:1")
print(json.dumps({
    "first": first.ref, "again": again.ref, "rows": steward.data.load("tx").height,
    "hash": steward.data.get(first.short_hash).ref,
    "lineage": [(u.run_id, u.role) for u in lineage.runs], "run": run.run_id,
}))
"""


def test_register_load_and_lineage_work_through_steward_data(tmp_path: Path) -> None:
    env = {"STEWARD_HOME": str(tmp_path / "home"), "STEWARD_CAPTURE_GIT": "false", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == out["again"] == out["hash"] == "datasets:/tx/1"
    assert out["rows"] == 3
    assert out["lineage"] == [[out["run"], "train"]]


def test_the_same_script_works_against_a_server(tmp_path: Path, live_server: Any) -> None:
    env = {"STEWARD_TRACKING_URI": live_server.url, "STEWARD_CAPTURE_GIT": "false", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == out["again"] == out["hash"] == "datasets:/tx/1"
    assert out["rows"] == 3
    assert out["lineage"] == [[out["run"], "train"]]
