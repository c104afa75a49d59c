"""``make demo`` runs end to end on a fresh embedded store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _split_rows(out: str, phase: str) -> list[list[int]]:
    """The numbers of the split table's rows for ``phase``: requests, primary, candidate, share, errors."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] == phase:
            rows.append([int(c) for c in cells[1:4]] + [int(cells[5])])
    return rows


@pytest.mark.slow
def test_the_demo_runs_the_lifecycle_on_a_fresh_store(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / ".steward")
    env["COLUMNS"] = "120"  # rich wraps at the terminal width; the tables below are read cell by cell
    done = subprocess.run(
        [sys.executable, "-m", "steward.demo"], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
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

    # serving: the champion alone, then the challenger's canary steps, each seen in the split
    (champion_only,) = _split_rows(out, "champion")
    assert champion_only == [300, 300, 0, 0]
    canary_5, canary_50 = _split_rows(out, "canary 5%"), _split_rows(out, "canary 50%")
    assert canary_5 and canary_5[0][2] > 0 and canary_5[0][3] == 0, out
    if canary_50:  # the controller advanced: about half of the step's requests reached the challenger
        requests, _, candidate, errors = canary_50[0]
        assert candidate > requests / 4 and errors == 0
    ended = re.search(r"^The controller (promoted|rolled back) breast-cancer:\d+ \(revision \d+\): (.+)$", out, re.MULTILINE)
    assert ended, out
    assert ("bounds held" in ended.group(2)) == (ended.group(1) == "promoted")
    assert re.search(r"^Evidence at step \d/3 .*candidate \d+ requests", out, re.MULTILINE)
    assert "/metrics of demo-api" in out and "p99 ms" in out
    logged = re.search(r"^Prediction log: (\d+) rows for demo-api in this window; (\d+) requests were answered", out, re.MULTILINE)
    assert logged, out
    # a graceful stop flushes the log: every answered request is in it
    assert int(logged.group(1)) == int(logged.group(2)) > 300
    assert "Server stopped after draining in-flight requests" in out

    # monitoring: the two shifted features drift, the others stay stable, the alert fires
    verdict = re.search(r"^Drifted: (.+); stable: (\d+) others", out, re.MULTILINE)
    assert verdict, out
    drifted = verdict.group(1).split(", ")
    assert {"mean texture", "worst smoothness"} <= set(drifted), out
    assert int(verdict.group(2)) >= 1
    assert "mean radius" not in drifted  # unshifted: the same holdout rows as the training data's distribution
    assert re.search(r"^Alert fired: demo-api-drift-share .*drift\.share [\d.]+ > 0\.05 over \d+ rows", out, re.MULTILINE), out
    assert (tmp_path / ".steward" / "reports" / "drift.html").is_file()

    # features: point-in-time training frame, served with online lookup from entity keys only
    assert re.search(r"^Point-in-time training frame: 3,000 orders, every one kept", out, re.MULTILINE), out
    assert re.search(r"^A request without the join key: 422 .*customer_id", out, re.MULTILINE), out
    assert re.search(r"^Prediction log: 4 rows for risk-api, with the feature values served", out, re.MULTILINE), out
    assert "feature.staleness_seconds.customer_stats" in out

    # the loop: the drift alert's trigger retrains on the labelled window, gates, canaries, decides
    assert re.search(r"^\$ steward predictions label demo-api .*: (\d+) labels attached", out, re.MULTILINE), out
    started = re.search(
        r"^Trigger demo-retrain-on-drift: (alert:demo-api-drift-share:\d+|manual:\w+) started retrain:breast-cancer on "
        r"(demo-api-demo-api-drift-share:\d+) .*: finished", out, re.MULTILINE,
    )
    assert started, out
    outcome = re.search(r"^Loop outcome: breast-cancer:(\d+) (promoted|rolled back)", out, re.MULTILINE)
    assert outcome, out
    hooks = re.search(r"^Webhook demo-loop delivered (\d+) events to http://127\.0\.0\.1:\d+/hook, (\d+) with a valid signature", out, re.MULTILINE)
    assert hooks and int(hooks.group(1)) == int(hooks.group(2)) > 0, out
    assert "model_version.created" in out and "model_version.approved" in out
    timeline = [cells[2] for line in out.splitlines() if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 6 and cells[0].isdigit()]
    loop = timeline[timeline.index("alert fired"):]
    ending = "promoted" if outcome.group(2) == "promoted" else "rolled back"
    wanted = ["alert fired", "retraining started", "retrained", "gate", "candidate registered", "approved", "retraining resumed",
              "canary started", ending, "retraining ended"]
    it = iter(loop)
    assert all(any(kind == w for kind in it) for w in wanted), loop
