"""The SQL feature registry on SQLite and PostgreSQL: versions, projects, materialisation state,
lineage, model signatures, and the audit trail."""

from __future__ import annotations

from steward.adapters.sql._feature_store import SqlFeatureRegistry
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.tracking import AuditEvent
from steward.wiring import Services


def view(name: str, ttl: str = "1d") -> FeatureView:
    return FeatureView(name, entities=(Entity("card", ("card_id",)),), features=(Feature("n", "int64"),),
                       source=FeatureSource("parquet", "x.parquet", event_time="ts"), ttl=ttl)


def event(action: str) -> AuditEvent:
    return AuditEvent("tester", action, "t", 1_000)


def test_versions_projects_state_and_lineage_round_trip(services: Services) -> None:
    registry = SqlFeatureRegistry(services.store)
    first = registry.add_view_version(view("a"), "alpha", event("features.apply"))
    second = registry.add_view_version(view("a", "2d"), "ignored: a view keeps its project", event("features.apply"))
    registry.add_view_version(view("b"), "beta", event("features.apply"))
    assert (first.version, second.version, second.project) == (1, 2, "alpha")
    assert registry.get_view("a", 1).view.ttl == "1d" and registry.get_view("a").view.ttl == "2d"
    assert [s.view.name for s in registry.list_views()] == ["a", "b"]
    assert [s.view.name for s in registry.list_views(frozenset({"beta"}))] == ["b"]
    state = registry.record_materialization("a", 5_000, 4_000, event("features.materialize"))
    older = registry.record_materialization("a", 3_000, 2_000, event("features.materialize"))  # never backwards
    assert (state.materialized_until, state.newest_value_at) == (older.materialized_until, older.newest_value_at) == (5_000, 4_000)
    registry.add_lineage("train", 1, [("a", 2), ("b", 1)], event("features.lineage"))
    registry.add_lineage("train", 1, [("a", 2)], event("features.lineage"))  # recorded once
    assert registry.lineage_of("train", 1) == [("a", 2), ("b", 1)]
    actions = [e.action for e in services.store.list_audit(limit=100)]
    assert actions.count("features.apply") == 3 and actions.count("features.lineage") == 2
    assert registry.model_inputs() == []


def test_the_service_applies_on_both_stores(services: Services) -> None:
    svc = services.features("tester")
    assert svc.apply([view("c")], project="gamma").applied[0].project == "gamma"
    assert svc.apply([view("c")]).unchanged == ["c"]
    assert [f["view"] for f in svc.freshness()] == ["c"]
