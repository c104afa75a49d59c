"""The module-level data functions run on the default (embedded) client in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == out["again"] == out["hash"] == "datasets:/tx/1"
    assert out["rows"] == 3
    assert out["lineage"] == [[out["run"], "train"]]


def test_steward_data_register_refuses_a_remote_client_with_a_clear_error(tmp_path: Path) -> None:
    script = "import steward, steward.data, polars as pl\nsteward.data.register('tx', pl.DataFrame({'a': [1]}))"
    env = {"STEWARD_TRACKING_URI": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "embedded store" in done.stderr
