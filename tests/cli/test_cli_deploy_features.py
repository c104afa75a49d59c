"""``steward deploy create --features`` and ``steward deploy features``, embedded and against a server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from cli_testing import Cli, client_settings

from steward import Client
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.wiring import build_services


def _seed(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    settings = client_settings(home)
    source = tmp_path / "stats.parquet"
    pd.DataFrame({"customer_id": [1], "ts": [datetime(2026, 1, 1) - timedelta(hours=1)], "txn_count": [2.0]}).to_parquet(source, index=False)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=30), "txn_count": rng.integers(0, 5, 30).astype(float)})
    client = Client(settings)
    try:
        with client.start_run("cli-features") as run:
            run.log_model(LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int)), "risk",
                          input_example=frame.head(3), registered_model_name="risk")
    finally:
        client.close()
    services = build_services(settings)
    try:
        services.features("tester").apply([FeatureView(
            "stats", entities=(Entity("customer", join_keys=("customer_id",)),), features=(Feature("txn_count", "float64"),),
            source=FeatureSource("parquet", str(source), event_time="ts"),
        )])
        services.registry("reviewer").approve("risk", 1, comment="ok")
    finally:
        services.close()


def test_deploy_with_features_then_change_them(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    _seed(home, tmp_path)
    created = any_cli("deploy", "create", "risk-api", "--model", "risk:1", "--features", "stats:txn_count", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["features"] == ["stats:txn_count"]
    shown = any_cli("deploy", "status", "risk-api")
    assert shown.exit_code == 0 and "features: stats:txn_count" in shown.stdout
    cleared = any_cli("deploy", "features", "risk-api", "--features", "", "--json")
    assert cleared.exit_code == 0 and json.loads(cleared.stdout)["features"] == []


def test_unknown_views_and_features_are_named_with_their_exit_codes(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    _seed(home, tmp_path)
    unknown_view = any_cli("deploy", "create", "risk-api", "--model", "risk:1", "--features", "nope:txn_count")
    assert unknown_view.exit_code == 3 and "unknown feature views: nope" in unknown_view.output
    unknown_feature = any_cli("deploy", "create", "risk-api", "--model", "risk:1", "--features", "stats:nothing")
    assert unknown_feature.exit_code == 2 and "unknown features: stats:nothing" in unknown_feature.output
    assert "Traceback" not in unknown_view.output + unknown_feature.output
    assert any_cli("deploy", "status", "risk-api").exit_code == 3  # nothing was created
