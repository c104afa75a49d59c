"""``make demo`` runs end to end on a fresh embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_runs_the_lifecycle_on_a_fresh_store(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / ".steward")
    done = subprocess.run(
        [sys.executable, "-m", "steward.demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "Registered datasets:/breast-cancer-train/1" in out
    assert "all" in out and "checks passed" in out  # the clean data passes its inferred suite
    assert "FAIL" in out  # the damaged copy fails at least one check
    assert "gradient-boosting" in out and "logistic-sgd" in out
    assert "Promoted" in out
    assert (tmp_path / ".steward" / "reports" / "damaged-validation.html").is_file()
    cards = list((tmp_path / ".steward" / "cards").rglob("model_card.html"))
    assert cards, "the model card was not written"
