"""Alert rules on ``feature.staleness_seconds.<view>``: fire when a view's newest materialised
value is older than the threshold, resolve when fresh values arrive; evaluated by the server's
monitor runner under a lease (SQLite and PostgreSQL metadata)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.monitoring._alert_rules import alert_rules_faults, parse_alert_rules
from steward.monitoring._freshness import evaluate_staleness
from steward.monitoring._runner import MonitorRunner
from steward.wiring import Services

T0 = datetime(2026, 6, 1)
HOUR_MS = 3_600_000


def ms(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)


RULES = """\
rules:
  - name: stats-stale
    metric: feature.staleness_seconds.stats
    comparison: '>'
    threshold: 3600
    severity: critical
    notify: [log]
  - name: idle-stale
    metric: feature.staleness_seconds.idle
    comparison: '>'
    threshold: 3600
  - name: ghost-stale
    metric: feature.staleness_seconds.ghost
    comparison: '>'
    threshold: 3600
"""


def view(name: str, source: Path) -> FeatureView:
    return FeatureView(
        name, entities=(Entity("customer", join_keys=("customer_id",)),), features=(Feature("txn_count", "int64"),),
        source=FeatureSource("parquet", str(source), event_time="ts"), ttl="30d",
    )


@pytest.fixture
def world(services: Services, tmp_path: Path) -> Iterator[tuple[Services, Path]]:
    folder = tmp_path / "stats"
    folder.mkdir()
    pd.DataFrame({"customer_id": [1, 2], "ts": [T0, T0 + timedelta(minutes=30)], "txn_count": [1, 2]}).to_parquet(
        folder / "a.parquet", index=False
    )
    features = services.features("tester")
    features.apply([view("stats", folder), view("idle", folder)])
    features.materialize(["stats"], end_ms=ms(T0 + timedelta(hours=1)))
    yield services, folder
    services.alert_runtime().close()


def status(services: Services) -> dict[str, str]:
    return {a.rule: a.state.status.value for a in services.alerts("tester").list_alerts()}


def test_a_stale_view_fires_and_fresh_values_resolve_it(world: tuple[Services, Path]) -> None:
    services, folder = world
    rules = parse_alert_rules(RULES)
    alerts, features = services.alerts("tester"), services.features("tester")
    newest = ms(T0 + timedelta(minutes=30))
    fresh = evaluate_staleness(alerts, features, rules, now_ms=newest + 10 * 60_000)
    assert fresh is not None
    outcome = {o.rule: o for o in fresh.outcomes}
    assert outcome["stats-stale"].state.status.value == "inactive"
    assert outcome["stats-stale"].state.value == pytest.approx(600.0)
    later = evaluate_staleness(alerts, features, rules, now_ms=newest + 2 * HOUR_MS)
    assert later is not None
    fired = {o.rule: o for o in later.outcomes}["stats-stale"]
    assert fired.state.status.value == "firing" and [e.kind.value for e in fired.events] == ["fired"]
    assert fired.state.value == pytest.approx(7200.0)
    # fresh values arrive: the next look resolves it
    pd.DataFrame({"customer_id": [1], "ts": [T0 + timedelta(hours=3)], "txn_count": [5]}).to_parquet(folder / "b.parquet", index=False)
    features.materialize(["stats"], end_ms=ms(T0 + timedelta(hours=4)), incremental=True)
    resolved = evaluate_staleness(alerts, features, rules, now_ms=ms(T0 + timedelta(hours=3, minutes=5)))
    assert resolved is not None
    after = {o.rule: o for o in resolved.outcomes}["stats-stale"]
    assert after.state.status.value == "inactive" and [e.kind.value for e in after.events] == ["resolved"]


def test_a_view_never_materialised_is_stale_since_it_was_registered_and_an_unknown_view_is_insufficient(
    world: tuple[Services, Path],
) -> None:
    services, _ = world
    idle = services.features("tester").get_view("idle")
    evaluation = evaluate_staleness(services.alerts("tester"), services.features("tester"), parse_alert_rules(RULES),
                                    now_ms=idle.created_at + 2 * HOUR_MS)
    assert evaluation is not None
    outcome = {o.rule: o for o in evaluation.outcomes}
    assert outcome["idle-stale"].state.status.value == "firing"
    assert [e.kind.value for e in outcome["ghost-stale"].events] == ["insufficient_sample"]


def test_the_servers_monitor_runner_evaluates_staleness_under_one_lease(world: tuple[Services, Path], tmp_path: Path) -> None:
    services, _ = world
    path = tmp_path / "alerts.yaml"
    path.write_text(RULES, encoding="utf-8")
    wired = dataclasses.replace(services, settings=services.settings.model_copy(update={"alert_rules": path}))
    at = ms(T0 + timedelta(hours=5))
    assert MonitorRunner(wired, 1.0, holder="a").look(now=at) == []
    assert status(services)["stats-stale"] == "firing"
    before = services.alerts("tester").get_alert("stats-stale")[0].updated_at
    # another replica's runner looks during a's lease: it leaves the rules alone
    MonitorRunner(wired, 1.0, holder="b").look(now=at + 500)
    assert services.alerts("tester").get_alert("stats-stale")[0].updated_at == before


def test_rule_files_check_the_staleness_metric_form() -> None:
    bad = RULES.replace("feature.staleness_seconds.stats", "feature.staleness_seconds.")
    faults = alert_rules_faults(bad)
    assert faults and "unknown metric" in faults[0][1] and "feature.staleness_seconds.<view>" in faults[0][1]
