"""A monitor over time: the multivariate ROC-AUC computed per window (and firing its alert rule),
and ``steward monitor show NAME --html`` drawing drift, quality and health panels offline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitor_testing import HOUR_MS, NOW, build_deployment, log_traffic
from typer.testing import CliRunner

from steward.cli import app
from steward.monitoring import render_monitor_html
from steward.monitoring._alert_rules import parse_alert_rules
from steward.settings import Settings
from steward.wiring import Services, build_services


@pytest.fixture
def alerting(services: Services, settings: Settings) -> Iterator[Services]:
    build_deployment(services, settings)
    yield services
    services.alert_runtime().close()


def test_each_window_has_a_multivariate_auc_and_its_rule_fires_on_the_shifted_one(alerting: Services) -> None:
    monitors = alerting.monitors("dana")
    monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
    log_traffic(alerting, rows=1000, start_ms=NOW - 2 * HOUR_MS, seed=1, cpu_ms=1.0)
    log_traffic(alerting, rows=1000, start_ms=NOW - HOUR_MS, seed=2, shift=8.0, cpu_ms=1.5)
    stable = monitors.run_monitor("fraud-drift", now=NOW - HOUR_MS)
    shifted = monitors.run_monitor("fraud-drift", now=NOW)
    mv_stable, mv_shifted = stable.summary["drift"]["multivariate"], shifted.summary["drift"]["multivariate"]
    assert mv_stable["status"] == "ok" and mv_stable["drifted"] is False and mv_stable["roc_auc"] < 0.55
    assert mv_shifted["drifted"] is True and mv_shifted["top_features"][0]["column"] == "amount"
    assert shifted.summary["metrics"]["drift.multivariate.roc_auc"] == mv_shifted["roc_auc"]
    rules = parse_alert_rules(
        "rules: [{name: joint, deployment: fraud-api, metric: drift.multivariate.roc_auc, comparison: '>', threshold: 0.6}]"
    )
    alerts = alerting.alerts("dana")
    [quiet] = alerts.evaluate(rules, stable.observations(), deployment="fraud-api").outcomes
    assert quiet.state.status.value != "firing"
    [fired] = alerts.evaluate(rules, shifted.observations(), deployment="fraud-api").outcomes
    assert fired.state.status.value == "firing" and fired.state.value == pytest.approx(mv_shifted["roc_auc"])
    page = render_monitor_html(monitors.get_monitor("fraud-drift").to_dict(), [r.to_dict() for r in (shifted, stable)])
    for panel in ("Share of drifted features", "Domain classifier ROC-AUC", "Effect per feature and window",
                  "with its 95% interval", "Labelled rows per window", "Latency (ms)", "Error rate",
                  "Throughput (requests/s)", "Cost per 1,000 predictions"):
        assert panel in page, panel
    assert "1,000 labelled rows" in page and "<polygon" in page  # the interval band
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_monitor_show_writes_the_html_report_over_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update({"STEWARD_HOME": str(home), "STEWARD_USER": "dana", "STEWARD_CAPTURE_GIT": "false",
                "STEWARD_CAPTURE_PACKAGES": "false", "NO_COLOR": "1", "COLUMNS": "250"})
    settings = Settings(home=home, user="dana", capture_git=False, capture_packages=False, tracking_uri=None, database_url=None)
    services = build_services(settings)
    now = time.time_ns() // 1_000_000
    try:
        build_deployment(services, settings)
        services.monitors("dana").create_monitor("fraud-drift", "fraud-api", reference="transactions:1", window="1h")
        log_traffic(services, rows=400, start_ms=now - 2 * HOUR_MS, seed=3, cpu_ms=1.0)
        services.monitors("dana").run_monitor("fraud-drift", now=now - HOUR_MS)
        log_traffic(services, rows=400, start_ms=now - HOUR_MS, seed=4, shift=8.0, cpu_ms=1.0)
        services.monitors("dana").run_monitor("fraud-drift", now=now)
    finally:
        services.close()
    out = tmp_path / "monitor.html"
    shown = CliRunner().invoke(app, ["monitor", "show", "fraud-drift", "--html", str(out)], env=env)
    assert shown.exit_code == 0, shown.output
    page = out.read_text()
    assert "Monitor fraud-drift" in page and "2 windows" in page and "amount" in page
    assert page.count("<svg") >= 7  # every panel but the error rate (no serving process reported requests)
    bad = CliRunner().invoke(app, ["monitor", "show", "fraud-drift", "--html", str(tmp_path / "no" / "dir" / "x.html")], env=env)
    assert bad.exit_code == 2 and "cannot write the report" in bad.output
