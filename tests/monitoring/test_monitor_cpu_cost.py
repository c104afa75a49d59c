"""A monitor's cost from the CPU time the serving processes measured and reported (every request,
logged or sampled out), on SQLite and PostgreSQL; the log's per-row CPU time when no report covers it."""

from __future__ import annotations

import pytest
from monitor_testing import HOUR_MS, NOW, build_deployment, log_traffic

from steward.core.traffic import LATENCY_BUCKETS_MS, VariantStats
from steward.errors import InvalidInputError
from steward.serving._metrics import StatsWindow
from steward.settings import Settings
from steward.wiring import Services


def _report(cpu_ms: float, rows: int, *, start: int = NOW - HOUR_MS + 1000, end: int = NOW - 1000) -> VariantStats:
    counts = tuple([0] * len(LATENCY_BUCKETS_MS))
    return VariantStats("fraud-api", 1, "primary", "fraud:1", start, end, 500, 0, counts, cpu_ms=cpu_ms, rows=rows)


def test_the_cost_prices_the_reported_cpu_seconds_of_every_request(services: Services, settings: Settings) -> None:
    build_deployment(services, settings)
    monitors = services.monitors("dana")
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    # the log holds 1,000 rows at 1 CPU-ms per request; the servers answered 5,000 rows in 12 CPU-seconds
    log_traffic(services, rows=1000, cpu_ms=1.0)
    services.deployments("serve").record_stats([_report(7_000.0, 3_000), _report(5_000.0, 2_000)])
    cost = monitors.run_monitor("fraud-drift", now=NOW).summary["health"]["cost"]
    assert cost["cpu_seconds_source"] == "serving_reports"
    assert cost["cpu_seconds"] == pytest.approx(12.0) and cost["measured_rows"] == 5_000
    assert cost["per_1000_predictions"] == pytest.approx(12.0 / 3600 * settings.monitor_price_per_cpu_hour / 5)


def test_without_a_report_the_logged_cpu_time_is_used(services: Services, settings: Settings) -> None:
    build_deployment(services, settings)
    monitors = services.monitors("dana")
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    log_traffic(services, rows=1000, cpu_ms=3.0)  # 100 requests of 10 rows
    services.deployments("serve").record_stats([_report(0.0, 0)])  # a report from a server that measured nothing
    cost = monitors.run_monitor("fraud-drift", now=NOW).summary["health"]["cost"]
    assert cost["cpu_seconds_source"] == "prediction_log" and cost["cpu_seconds"] == pytest.approx(0.3)


def test_a_report_with_negative_cpu_time_is_refused(services: Services) -> None:
    with pytest.raises(InvalidInputError, match="cpu_ms"):
        services.deployments("serve").record_stats([_report(-1.0, 10)])


def test_the_stats_window_adds_up_cpu_time_and_rows_per_variant() -> None:
    window = StatsWindow("fraud-api")
    window.observe(1, "primary", "fraud:1", 5.0, False, cpu_ms=2.0, rows=10)
    window.observe(1, "primary", "fraud:1", 7.0, False, cpu_ms=3.0, rows=5)
    window.observe(1, "primary", "fraud:1", 9.0, True)  # a failed request: no CPU measured
    [stats] = window.take()
    assert (stats.requests, stats.errors, stats.cpu_ms, stats.rows) == (3, 1, 5.0, 15)
    assert window.take() == []
