"""Monitors on SQLite and PostgreSQL: the reference from the lineage, drift per feature and of
predictions, quality with intervals, concept drift, fairness, health and cost per window,
insufficient data, refusals, audit."""

from __future__ import annotations

import numpy as np
import pytest
from monitor_testing import HOUR_MS, NOW, build_deployment, log_traffic

from steward.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from steward.monitoring._monitors import MonitorService
from steward.settings import Settings
from steward.wiring import Services


@pytest.fixture
def monitors(services: Services, settings: Settings) -> MonitorService:
    build_deployment(services, settings)
    return services.monitors("dana")


def test_a_monitor_takes_its_reference_from_the_model_versions_training_lineage(monitors: MonitorService) -> None:
    created = monitors.create_monitor("fraud-drift", "fraud-api", window="1h", schedule="*/15  * * * *")
    assert created.reference.startswith("transactions")
    assert created.schedule == "*/15 * * * *"
    assert created.window_s == 3600
    assert created.next_run_at is not None and created.next_run_at % (15 * 60_000) == 0
    assert [m.name for m in monitors.list_monitors()] == ["fraud-drift"]
    with pytest.raises(AlreadyExistsError):
        monitors.create_monitor("fraud-drift", "fraud-api")


def test_a_shifted_feature_is_flagged_and_the_stable_ones_are_not(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    log_traffic(services, rows=2000, shift=5.0)  # half a standard deviation
    result = monitors.run_monitor("fraud-drift", now=NOW)
    assert result.status == "drift"
    assert result.window_start == NOW - HOUR_MS and result.window_end == NOW
    drift = result.summary["drift"]
    assert drift["drifted"] == ["amount"]
    verdicts = {c["column"]: c for c in drift["columns"]}
    assert verdicts["country"]["drifted"] is False and verdicts["group"]["drifted"] is False
    assert verdicts["amount"]["method"] and verdicts["amount"]["p_value"] < 0.05
    assert result.summary["metrics"]["drift.share"] == pytest.approx(1 / 3)


def test_a_stable_window_has_quality_with_an_interval_health_and_cost(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    log_traffic(services, rows=1000, flip=lambda a: np.arange(a.size) % 10 == 0, latency_ms=8.0, cpu_ms=2.0)
    result = monitors.run_monitor("fraud-drift", now=NOW)
    assert result.status == "ok", result.summary["drift"]
    q = result.summary["quality"]
    assert q["task"] == "classification" and q["labelled_rows"] == 1000
    assert q["metrics"]["accuracy"] == pytest.approx(0.9)
    low, high = q["intervals"]["accuracy"]
    assert low < 0.9 < high and high - low < 0.05
    assert q["intervals"]["f1"] is not None
    health = result.summary["health"]
    assert health["requests"] == 100 and health["rows"] == 1000
    assert health["latency_ms"] == {"p50": 8.0, "p95": 8.0, "p99": 8.0}
    assert health["throughput_rps"] == pytest.approx(100 / 3600)
    cost = health["cost"]
    # 100 requests x 2 measured CPU-ms = 0.2 CPU-seconds (not the 8 ms of wall time) at 0.05 per CPU-hour
    assert cost["cpu_seconds"] == pytest.approx(0.2)
    assert cost["per_1000_predictions"] == pytest.approx(0.2 / 3600 * 0.05)
    assert cost["cpu_seconds_source"] == "prediction_log" and cost["measured_rows"] == 1000
    assert result.summary["metrics"]["quality.accuracy"] == pytest.approx(0.9)
    observed = result.observations()
    assert observed["quality.accuracy"].value == pytest.approx(0.9) and observed["quality.accuracy"].sample == 1000
    assert observed["health.p99_ms"].value == 8.0 and observed["health.p99_ms"].at_ms == NOW
    assert observed["drift.share"].value == 0.0 and observed["drift.share"].window_start_ms == NOW - HOUR_MS


def test_a_window_with_too_few_rows_is_insufficient_data_never_drift(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1", min_rows=100)
    log_traffic(services, rows=40, shift=50.0)  # a huge shift, but only 40 rows
    result = monitors.run_monitor("fraud-drift", now=NOW)
    assert result.status == "insufficient_data"
    assert result.summary["drift"]["drifted"] == []
    assert "40 rows" in result.summary["drift"]["message"]
    assert result.summary["quality"]["status"] == "insufficient_data"
    assert "drift.share" not in result.observations()  # a quiet window says nothing about drift


def test_quality_falling_while_the_inputs_stay_put_is_concept_drift(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    log_traffic(services, rows=1000, start_ms=NOW - 2 * HOUR_MS, seed=1)
    first = monitors.run_monitor("fraud-drift", now=NOW - HOUR_MS)
    assert first.status == "ok"
    # the same inputs, but the world changed: 40% of the labels now disagree with the model
    log_traffic(services, rows=1000, seed=2, flip=lambda a: np.arange(a.size) % 5 < 2)
    second = monitors.run_monitor("fraud-drift", now=NOW)
    assert second.summary["drift"]["drifted"] == []
    concept = second.summary["concept_drift"]
    assert concept["quality_fell"] and concept["flagged"] and concept["baseline"] == pytest.approx(1.0)
    assert second.status == "concept_drift"
    assert second.summary["prediction_drift"]["status"] == "ok"
    assert second.summary["prediction_drift"]["drifted"] is False


def test_fairness_is_computed_per_window_for_the_declared_sensitive_attributes(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1", sensitive=["group", "religion"])
    log_traffic(services, rows=1000)
    fairness = monitors.run_monitor("fraud-drift", now=NOW).summary["fairness"]
    assert fairness["group"]["status"] == "ok"
    assert {g["group"] for g in fairness["group"]["groups"]} == {"a", "b"}
    assert 0.0 <= fairness["group"]["demographic_parity_difference"] < 0.15
    assert fairness["group"]["equalized_odds_difference"] == pytest.approx(0.0)  # labels equal the outputs
    assert fairness["religion"]["status"] == "missing"


def test_bad_definitions_are_refused_naming_the_field(monitors: MonitorService) -> None:
    cases = [
        ({"name": "Bad Name"}, "name"),
        ({"window": "an hour"}, "window"),
        ({"window": "0s"}, "window"),
        ({"schedule": "every 15 minutes"}, "schedule"),
        ({"schedule": "*/15 * * *"}, "schedule"),
        ({"sensitivity": "extreme"}, None),
        ({"reference_window": "yesterday"}, "reference_window"),
        ({"min_rows": 0}, "min_rows"),
    ]
    for change, field in cases:
        args = {"name": "fraud-drift", "deployment": "fraud-api", "reference": "transactions:1", **change}
        if "reference_window" in change:
            args.pop("reference")
        with pytest.raises(InvalidInputError) as info:
            monitors.create_monitor(**args)  # type: ignore[arg-type]
        if field is not None:
            assert info.value.field == field, change
    with pytest.raises(NotFoundError):
        monitors.create_monitor("fraud-drift", "no-such-api", reference="transactions:1")
    with pytest.raises(NotFoundError):
        monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:9")
    assert monitors.list_monitors() == []


def test_a_window_that_cannot_be_computed_is_stored_as_failed_with_the_reason(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference_window="2020-01-01T00:00:00Z/2020-01-02T00:00:00Z")
    log_traffic(services, rows=200)
    result = monitors.run_monitor("fraud-drift", now=NOW)
    assert result.status == "failed"
    assert result.error is not None and "reference" in result.error
    assert [r.id for r in monitors.list_results("fraud-drift")] == [result.id]


def test_creating_running_and_deleting_are_audited_and_delete_removes_results(monitors: MonitorService, services: Services) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    monitors.run_monitor("fraud-drift", now=NOW)
    monitors.delete_monitor("fraud-drift")
    actions = [(e.action, e.actor) for e in services.store.list_audit(limit=10_000) if e.target == "monitors:/fraud-drift"]
    assert actions == [("monitor.create", "dana"), ("monitor.run", "dana"), ("monitor.delete", "dana")]
    with pytest.raises(NotFoundError):
        monitors.list_results("fraud-drift")


def test_one_runner_holds_a_monitors_lease_until_it_expires_or_is_released(monitors: MonitorService) -> None:
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    store = monitors.store
    assert store.acquire_lease("fraud-drift", "a", NOW, 1000)
    assert not store.acquire_lease("fraud-drift", "b", NOW + 500, 1000)
    assert store.acquire_lease("fraud-drift", "a", NOW + 900, 1000)  # renewed: now until NOW + 1900
    assert not store.acquire_lease("fraud-drift", "b", NOW + 1800, 1000)
    assert store.acquire_lease("fraud-drift", "b", NOW + 1900, 1000)  # expired: taken over
    store.release_lease("fraud-drift", "a")  # not the holder: nothing happens
    assert not store.acquire_lease("fraud-drift", "a", NOW + 2000, 1000)
    store.release_lease("fraud-drift", "b")
    assert store.acquire_lease("fraud-drift", "a", NOW + 2000, 1000)
