"""Applying definitions: versions, a diff, YAML and Python files, refusal when a model's signature would break."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from features_testing import CUSTOMER, embedded, features, stats_view

from steward import Client
from steward.errors import ConflictError, InvalidInputError, NotFoundError
from steward.features import Feature, FeatureSource, FeatureView, load_definitions
from steward.settings import Settings

YAML = """
entities:
  - name: customer
    join_keys: [customer_id]
feature_views:
  - name: fraud_stats
    entities: [customer]
    source: {parquet: data/stats.parquet, event_time: ts}
    ttl: 30d
    owner: risk
    tags: {team: risk}
    features:
      - {name: txn_count, dtype: int64}
      - {name: amount, dtype: float64}
"""


def test_apply_versions_a_view_only_when_it_changes_and_reports_the_diff(tmp_path: Path) -> None:
    with embedded(tmp_path) as services:
        svc = features(services)
        first = svc.apply([stats_view("s.parquet")])
        assert [(s.view.name, s.version) for s in first.applied] == [("stats", 1)]
        assert [c.to_dict()["change"] for c in first.changes] == ["added"]
        again = svc.apply([stats_view("s.parquet")])
        assert again.applied == [] and again.unchanged == ["stats"]
        changed = svc.apply([stats_view("s.parquet", ttl="5d", features=("txn_count", "amount"))])
        assert [(s.view.name, s.version) for s in changed.applied] == [("stats", 2)]
        assert {(c.change, c.path) for c in changed.changes} == {("added", "features.amount"), ("changed", "ttl")}
        assert svc.get_view("stats", 1).view.ttl == "10d" and svc.get_view("stats").view.ttl == "5d"
        dry = svc.apply([stats_view("s.parquet", ttl="1d")], dry_run=True)
        assert dry.dry_run and dry.applied == [] and svc.get_view("stats").version == 2
        with pytest.raises(NotFoundError):
            svc.get_view("stats", 9)


def test_yaml_and_python_definition_files_give_the_same_view(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(YAML)
    (tmp_path / "f.py").write_text(
        "from steward.features import Entity, Feature, FeatureSource, FeatureView\n"
        "customer = Entity('customer', join_keys=('customer_id',))\n"
        "fraud_stats = FeatureView('fraud_stats', entities=(customer,), ttl='30d', owner='risk', tags={'team': 'risk'},\n"
        "    features=(Feature('txn_count', 'int64'), Feature('amount', 'float64')),\n"
        "    source=FeatureSource('parquet', 'data/stats.parquet', event_time='ts'))\n"
    )
    from_yaml, from_python = load_definitions(tmp_path / "f.yaml"), load_definitions(tmp_path / "f.py")
    assert [v.canonical() for v in from_yaml] == [v.canonical() for v in from_python]
    assert from_yaml[0].ttl_s == 30 * 86400


_ONE = "{name: v, entities: [{name: c, join_keys: [k]}], source: {parquet: x, event_time: ts}, features: [{name: a}]}"
TWICE = f"feature_views: [{_ONE}, {_ONE}]"


@pytest.mark.parametrize(("text", "field"), [
    ("feature_views: []", "feature_views"),
    ("feature_views: [{name: v, entities: [ghost], source: {parquet: x, event_time: ts}, features: [{name: a}]}]", "entities"),
    ("feature_views: [{name: v, entities: [{name: c, join_keys: [k]}], source: {parquet: x}, features: [{name: a}]}]", "event_time"),
    ("feature_views: [{name: v, entities: [{name: c, join_keys: [k]}], source: {parquet: x, event_time: ts}, features: [{name: a, dtype: money}]}]", "dtype"),
    ("feature_views: [{name: v, entities: [{name: c, join_keys: [k]}], source: {parquet: x, event_time: ts}, ttl: soon, features: [{name: a}]}]", "ttl"),
    ("feature_views: [{name: 'bad name', entities: [{name: c, join_keys: [k]}], source: {parquet: x, event_time: ts}, features: [{name: a}]}]", "name"),
    ("feature_views: [{name: v, entities: [{name: c, join_keys: [k]}], source: {parquet: x, event_time: ts}, features: [{name: k}]}]", "features"),
    (TWICE, "feature_views"),
])
def test_bad_definitions_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "f.yaml").write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        load_definitions(tmp_path / "f.yaml")
    assert caught.value.field == field


def test_a_change_that_breaks_a_registered_models_signature_is_refused_naming_it(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"txn_count": rng.integers(0, 9, 50), "amount": rng.normal(size=50)})
    settings = Settings(home=tmp_path / "home", user="tester", capture_git=False, auth="off")
    client = Client(settings)
    try:
        with client.start_run("fraud") as run:
            run.log_model(LogisticRegression().fit(frame, frame["txn_count"] > 4), "model", input_example=frame.head(5),
                          registered_model_name="fraud")
        svc = client.services.features("tester")

        def view(*feats: Feature) -> FeatureView:
            return FeatureView("fraud_stats", entities=(CUSTOMER,), features=feats,
                               source=FeatureSource("parquet", "s.parquet", event_time="ts"))

        svc.apply([view(Feature("txn_count", "int64"), Feature("amount", "float64"))])
        with pytest.raises(ConflictError, match=r"models:/fraud/1 takes txn_count \(removed from fraud_stats\)"):
            svc.apply([view(Feature("amount", "float64"))])
        with pytest.raises(ConflictError, match=r"models:/fraud/1 takes txn_count as int64 \(now string\)"):
            svc.apply([view(Feature("txn_count", "string"), Feature("amount", "float64"))])
        # an integer still feeds a float input; a feature no model takes may go
        ok = svc.apply([view(Feature("txn_count", "int64"), Feature("amount", "int64"))])
        assert ok.applied[0].version == 2
    finally:
        client.close()
