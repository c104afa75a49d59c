"""Serving-time feature lookup through a real ``steward serve --deployment`` process: requests
carry entity keys (and request-time inputs) only, the rest comes from the online store (the
SQLite file; the real Redis at 127.0.0.1:6379), and the prediction log records what was used."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from serving_testing import ServeProcess, store_env, store_settings

from steward import Client, Settings
from steward.errors import InvalidInputError, NotFoundError
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.wiring import Services, build_services

pytestmark = pytest.mark.slow

REDIS = "redis://127.0.0.1:6379/9"  # the online store tests' own database
NOW = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the sources
CUSTOMER = Entity("customer", join_keys=("customer_id",))


def stats_view(source: Path, name: str = "stats") -> FeatureView:
    return FeatureView(
        name, entities=(CUSTOMER,), ttl="30d",
        features=(Feature("txn_count", "float64"), Feature("amount_mean", "float64")),
        source=FeatureSource("parquet", str(source), event_time="ts"),
    )


def write_source(path: Path) -> None:
    pd.DataFrame({
        "customer_id": [1, 1, 2],
        "ts": [NOW - timedelta(days=3), NOW - timedelta(hours=1), NOW - timedelta(hours=2)],
        "txn_count": [1.0, 7.0, 2.0],
        "amount_mean": [10.0, 80.0, 5.0],
    }).to_parquet(path, index=False)


def register_models(settings: Settings, services: Services) -> None:
    """``risk_nan``: takes nulls (NaN in its example); ``risk``: does not. Both approved."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(50, 20, 200), "txn_count": rng.integers(0, 10, 200).astype(float),
                          "amount_mean": rng.normal(40, 10, 200)})
    label = ((frame["amount"] > frame["amount_mean"]) & (frame["txn_count"] > 3)).astype(int)
    with_nan = frame.copy()
    with_nan.loc[:4, ["txn_count", "amount_mean"]] = np.nan
    client = Client(settings)
    try:
        with client.start_run("serve-features") as run:
            run.log_model(HistGradientBoostingClassifier(max_iter=20).fit(with_nan, label), "risk_nan",
                          input_example=with_nan.head(8), registered_model_name="risk_nan")
            run.log_model(LogisticRegression(max_iter=500).fit(frame, label), "risk",
                          input_example=frame.head(5), registered_model_name="risk")
    finally:
        client.close()
    registry = services.registry("reviewer")
    registry.approve("risk_nan", 1, comment="ok")
    registry.approve("risk", 1, comment="ok")


class World:
    def __init__(self, root: Path, online_store: str | None) -> None:
        base = store_settings(root)
        self.settings = base.model_copy(update={"online_store": online_store}) if online_store else base
        self.services = build_services(self.settings)
        self.view = f"stats_{uuid.uuid4().hex[:8]}"  # a fresh view: the Redis database is shared
        source = root / "stats.parquet"
        write_source(source)
        features = self.services.features("tester")
        features.apply([stats_view(source, self.view)], project="risk_nan")
        features.materialize([self.view])
        register_models(self.settings, self.services)
        self.refs = [f"{self.view}:txn_count", f"{self.view}:amount_mean"]
        self.services.deployments("deployer").create_deployment("feat-api", "risk_nan:1", features=self.refs)
        env = {**store_env(self.settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3", "STEWARD_PREDICTION_SEGMENT_MAX_SECONDS": "1"}
        if online_store:
            env["STEWARD_ONLINE_STORE"] = online_store
        self.server = ServeProcess(["--deployment", "feat-api"], env)

    def close(self) -> None:
        self.server.stop()
        store = self.services.online_store()
        if hasattr(store, "delete_prefix"):
            store.delete_prefix()
        self.services.close()


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp(f"serve-features-{request.param}"), REDIS if request.param == "redis" else None)
    yield w
    w.close()


def post(world: World, body: Any) -> httpx.Response:  # Any: JSON
    return httpx.post(f"{world.server.url}/predict", json=body, timeout=30)


def test_entity_key_requests_are_completed_from_the_online_store_and_logged(world: World) -> None:
    answer = post(world, [{"customer_id": 1, "amount": 120.0}, {"customer_id": 2, "amount": 1.0}, {"customer_id": 99, "amount": 3.0}])
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert len(document["predictions"]) == 3
    # customer 99 has no materialised value: nulls (NaN for this model), flagged
    assert document["features_missing"] == [False, False, True]
    # the other request shapes are completed too
    split = post(world, {"dataframe_split": {"columns": ["customer_id", "amount"], "data": [[2, 4.0]]}})
    assert split.status_code == 200 and split.json()["features_missing"] == [False]
    # the prediction log holds the values served (the latest: 7.0 and 80.0 for customer 1)
    deadline = time.monotonic() + 30
    logged = pd.DataFrame()
    while time.monotonic() < deadline:
        logged = world.services.predictions().read("feat-api").to_pandas()
        if len(logged) >= 4:
            break
        time.sleep(0.5)
    assert len(logged) >= 4, "the prediction log did not receive the rows"
    first = logged.sort_values(["timestamp", "row"]).head(3)
    assert first["input.txn_count"].tolist()[:2] == [7.0, 2.0]
    assert first["input.amount_mean"].tolist()[:2] == [80.0, 5.0]
    assert np.isnan(first["input.txn_count"].tolist()[2])
    assert first["input.amount"].tolist() == [120.0, 1.0, 3.0]


@pytest.mark.parametrize(("body", "field"), [
    ([{"amount": 3.0}], "customer_id"),  # no join key
    ([{"customer_id": 1, "amount": 3.0, "txn_count": 5.0}], "txn_count"),  # overrides a looked-up feature
    ([{"customer_id": 1}], "amount"),  # a request-time input is still required
    ({"instances": [[1, 2.0]]}, "records"),  # rows without names cannot carry entity keys
])
def test_bad_requests_are_a_4xx_naming_the_field(world: World, body: Any, field: str) -> None:  # Any: JSON
    answer = post(world, body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["field"] == field


def test_a_model_that_takes_no_nulls_gets_a_clear_4xx_for_a_missing_entity(world: World) -> None:
    deployments = world.services.deployments("deployer")
    deployments.switch("feat-api", "risk:1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = post(world, [{"customer_id": 1, "amount": 2.0}])
        if answer.headers.get("x-steward-model") == "risk":
            break
        time.sleep(0.1)
    assert answer.status_code == 200 and answer.json()["features_missing"] == [False]
    missing = post(world, [{"customer_id": 1, "amount": 2.0}, {"customer_id": 404, "amount": 2.0}])
    assert missing.status_code == 422, missing.text
    error = missing.json()["error"]
    assert error["field"] == "customer_id"
    assert "row 1" in error["message"] and world.view in error["message"] and "does not take nulls" in error["message"]
    deployments.rollback("feat-api")


def test_a_changed_declaration_is_followed_by_the_running_server(world: World) -> None:
    deployments = world.services.deployments("deployer")
    deployments.set_features("feat-api", [])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = post(world, [{"customer_id": 1, "amount": 2.0}])
        if answer.status_code != 200:
            break
        time.sleep(0.1)
    # without the lookup the request lacks the model's inputs
    assert answer.status_code == 422 and answer.json()["error"]["field"] in ("txn_count", "customer_id")
    deployments.set_features("feat-api", world.refs)
    while time.monotonic() < deadline:
        if post(world, [{"customer_id": 1, "amount": 2.0}]).status_code == 200:
            break
        time.sleep(0.1)
    assert post(world, [{"customer_id": 1, "amount": 2.0}]).status_code == 200


def test_deploy_time_errors_name_the_view_or_feature(world: World) -> None:
    deployments = world.services.deployments("deployer")
    with pytest.raises(NotFoundError, match="unknown feature views: nope") as unknown:
        deployments.create_deployment("feat-other", "risk_nan:1", features=["nope:txn_count"])
    assert unknown.value.field == "features"
    with pytest.raises(InvalidInputError, match=f"unknown features: {world.view}:nothing"):
        deployments.create_deployment("feat-other", "risk_nan:1", features=[f"{world.view}:nothing"])
    with pytest.raises(InvalidInputError, match="not view:feature"):
        deployments.set_features("feat-api", ["just_a_name"])
    with pytest.raises(NotFoundError):
        deployments.get_deployment("feat-other")  # nothing was created
    assert deployments.get_deployment("feat-api").features == tuple(world.refs)
