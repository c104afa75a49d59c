"""``steward features apply|list|show|materialize``, embedded and against a live server (``any_cli``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from cli_testing import Cli

YAML = """
entities:
  - name: customer
    join_keys: [customer_id]
feature_views:
  - name: fraud_stats
    entities: [customer]
    source: {{parquet: {source}, event_time: ts}}
    ttl: {ttl}
    features:
      - {{name: txn_count, dtype: int64}}
"""


def definitions(tmp_path: Path, ttl: str = "30d", dtype_line: str = "") -> Path:
    source = tmp_path / "stats.parquet"
    if not source.exists():
        now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the source
        pd.DataFrame({"customer_id": [1, 2], "ts": [now - timedelta(hours=2), now - timedelta(hours=1)], "txn_count": [3, 4]}).to_parquet(
            source, index=False)
    path = tmp_path / "features.yaml"
    path.write_text(YAML.format(source=source, ttl=ttl) + dtype_line)
    return path


def test_apply_list_show_and_materialize(any_cli: Cli, tmp_path: Path) -> None:
    file = definitions(tmp_path)
    first = any_cli("features", "apply", str(file))
    assert first.exit_code == 0, first.output
    assert "+ fraud_stats.view" in first.stdout and "version 1" in first.stderr
    again = any_cli("features", "apply", str(definitions(tmp_path, ttl="7d")), "--json")
    assert again.exit_code == 0, again.output
    doc = json.loads(again.stdout)
    assert [c["path"] for c in doc["changes"]] == ["ttl"] and doc["applied"][0]["version"] == 2
    listed = any_cli("features", "list")
    assert listed.exit_code == 0 and "fraud_stats" in listed.stdout and "never" in listed.stdout
    done = any_cli("features", "materialize", "--json")
    assert done.exit_code == 0, done.output
    assert [(r["view"], r["entities"]) for r in json.loads(done.stdout)["results"]] == [("fraud_stats", 2)]
    views = json.loads(any_cli("features", "list", "--json").stdout)["views"]
    assert 3000 < views[0]["freshness_s"] < 3600 + 300
    shown = any_cli("features", "show", "fraud_stats", "--version", "1", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["ttl"] == "30d"
    assert "txn_count" in any_cli("features", "show", "fraud_stats").stdout
    incremental = any_cli("features", "materialize", "fraud_stats", "--incremental", "--json")
    assert json.loads(incremental.stdout)["results"][0]["written"] == 0


def test_errors_have_their_exit_codes(any_cli: Cli, tmp_path: Path) -> None:
    assert any_cli("features", "show", "ghost").exit_code == 3
    assert any_cli("features", "apply", str(tmp_path / "missing.yaml")).exit_code == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("feature_views: [{name: v, entities: [ghost], source: {parquet: x, event_time: ts}, features: [{name: a}]}]")
    wrong = any_cli("features", "apply", str(bad))
    assert wrong.exit_code == 2 and "unknown entity 'ghost'" in wrong.stderr
    assert any_cli("features", "materialize", "--start", "yesterday").exit_code == 2
