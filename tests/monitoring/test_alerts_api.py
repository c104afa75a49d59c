"""The Steward server's ``GET /metrics`` (alert gauges) and ``/api/v1/alerts``, against the real app."""

from __future__ import annotations

import httpx

from steward.core.alerts import Observation
from steward.monitoring._alert_rules import parse_alert_rules
from steward.wiring import Services

RULES = parse_alert_rules("""\
rules:
  - {name: drift-high, metric: drift.share, comparison: ">", threshold: 0.3, severity: critical, notify: [prometheus]}
  - {name: p99-slow, metric: health.p99_ms, comparison: ">", threshold: 250}
""")


def test_metrics_exposes_a_firing_gauge_per_rule_and_the_api_shows_state_and_events(api: httpx.Client, app: object) -> None:
    services: Services = app.state.services  # type: ignore[attr-defined]
    try:
        services.alerts("monitor").evaluate(RULES, {"drift.share": Observation(1_000, 0.7, 900), "health.p99_ms": Observation(1_000, 120.0, 900)})
        metrics = api.get("/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        assert 'steward_alert_firing{rule="drift-high",severity="critical"} 1.0' in metrics.text
        assert 'steward_alert_firing{rule="p99-slow",severity="warning"} 0.0' in metrics.text

        listed = api.get("/api/v1/alerts").json()["alerts"]
        assert {a["rule"]: a["status"] for a in listed} == {"drift-high": "firing", "p99-slow": "inactive"}
        shown = api.get("/api/v1/alerts/drift-high").json()
        assert shown["events"][0]["kind"] == "fired" and shown["events"][0]["evidence"]["value"] == 0.7

        # a rule evaluated by another process (its own gauges) shows from the stored state
        other = Services(services.settings, services.store, services.blobs)
        other.alerts("cli").evaluate(RULES, {"health.p99_ms": Observation(2_000, 900.0, 900)})
        other.alert_runtime().close()
        assert 'steward_alert_firing{rule="p99-slow",severity="warning"} 1.0' in api.get("/metrics").text

        missing = api.get("/api/v1/alerts/nope")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
        assert api.get("/api/v1/alerts/Not_A_Name").status_code in (400, 422)
    finally:
        services.alert_runtime().close()
