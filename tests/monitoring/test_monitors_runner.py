"""The monitor runner: due monitors run once across runners (the lease), the schedule moves on,
and a failing monitor never stops the others nor the server."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from monitor_testing import NOW, build_deployment, log_traffic

from steward.monitoring._ports import Monitor
from steward.monitoring._runner import MonitorRunner
from steward.settings import Settings
from steward.tracking import AuditEvent
from steward.wiring import Services, build_services


@pytest.fixture
def local(tmp_path: Path) -> Iterator[tuple[Settings, Services]]:
    settings = Settings(home=tmp_path / "home", user="dana", capture_git=False, capture_packages=False,
                        tracking_uri=None, database_url=None, monitor_interval=0.05)
    services = build_services(settings)
    build_deployment(services, settings)
    yield settings, services
    services.close()


def _due(services: Services, name: str, **kwargs: object) -> None:
    monitors = services.monitors("dana")
    monitors.create_monitor(name, "fraud-api", schedule="*/15 * * * *", **kwargs)  # type: ignore[arg-type]
    monitors.store.set_next_run(name, 0)


def test_a_due_monitor_runs_once_across_two_runners_and_its_next_run_moves_on(local: tuple[Settings, Services]) -> None:
    _settings, services = local
    log_traffic(services, rows=300)
    _due(services, "fraud-drift", reference="transactions:1")
    first, second = MonitorRunner(services, 1.0, holder="a"), MonitorRunner(services, 1.0, holder="b")
    assert first.look(now=NOW) == ["fraud-drift"]
    assert second.look(now=NOW) == []
    monitor = services.monitors("dana").get_monitor("fraud-drift")
    assert monitor.next_run_at == NOW + 15 * 60_000 - NOW % (15 * 60_000)
    results = services.monitors("dana").list_results("fraud-drift")
    assert [r.status for r in results] == ["ok"] and results[0].created_by == "steward-monitor"


def test_a_monitor_leased_by_another_runner_is_left_to_it(local: tuple[Settings, Services]) -> None:
    _settings, services = local
    _due(services, "fraud-drift", reference="transactions:1")
    store = services.monitors("dana").store
    assert store.acquire_lease("fraud-drift", "other-replica", NOW, 60_000)
    assert MonitorRunner(services, 1.0, holder="me").look(now=NOW) == []
    assert services.monitors("dana").get_monitor("fraud-drift").next_run_at == 0
    # once the holder's lease has expired, the monitor is taken over
    assert MonitorRunner(services, 1.0, holder="me").look(now=NOW + 60_000) == ["fraud-drift"]


def _broken(services: Services) -> None:
    """A monitor row whose schedule no longer parses (a damaged store): running it raises."""
    row = Monitor("broken", "fraud-api", "default", "transactions:1", 3600, "not a cron", {"min_rows": 10}, 0, 0, "dana")
    services.monitors("dana").store.create_monitor(row, AuditEvent("dana", "monitor.create", "monitors:/broken", 0, {}))


def test_a_failing_monitor_does_not_stop_the_others(local: tuple[Settings, Services]) -> None:
    _settings, services = local
    log_traffic(services, rows=300)
    _broken(services)
    _due(services, "failing", reference_window="2020-01-01T00:00:00Z/2020-01-02T00:00:00Z")
    _due(services, "fraud-drift", reference="transactions:1")
    ran = MonitorRunner(services, 1.0).look(now=NOW)
    assert sorted(ran) == ["failing", "fraud-drift"]
    monitors = services.monitors("dana")
    assert [r.status for r in monitors.list_results("failing")] == ["failed"]
    assert [r.status for r in monitors.list_results("fraud-drift")] == ["ok"]


def test_the_server_runs_due_monitors_in_the_background_and_keeps_serving_when_one_fails(local: tuple[Settings, Services]) -> None:
    from steward.server import create_app

    settings, services = local
    log_traffic(services, rows=300, start_ms=int(time.time() * 1000) - 1_800_000)
    _broken(services)
    _due(services, "failing", reference_window="2020-01-01T00:00:00Z/2020-01-02T00:00:00Z")
    _due(services, "fraud-drift", reference="transactions:1")
    app = create_app(settings, services)
    monitors = services.monitors("dana")

    async def scenario() -> list[float]:
        answered: list[float] = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    assert (await client.get("/healthz")).status_code == 200
                    answered.append(time.monotonic() - started)
                    if monitors.list_results("failing") and monitors.list_results("fraud-drift"):
                        break
                    await asyncio.sleep(0.05)
        return answered

    answered = asyncio.run(scenario())
    assert [r.status for r in monitors.list_results("failing")][-1] == "failed"
    assert monitors.list_results("fraud-drift")[-1].status == "ok"
    assert max(answered) < 2.0  # the runner computes in a worker thread: the event loop never stalls


def test_the_runner_feeds_each_window_to_the_configured_alert_rules_and_a_drifted_window_fires(
    local: tuple[Settings, Services], tmp_path: Path
) -> None:
    _settings, services = local
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: drift-high\n"
        "    deployment: fraud-api\n"
        "    metric: drift.share\n"
        "    comparison: '>'\n"
        "    threshold: 0.0\n"
        "    window: 1h\n"
        "    min_sample: 10\n"
        "    severity: critical\n"
        "    notify: [log]\n",
        encoding="utf-8",
    )
    wired = dataclasses.replace(services, settings=services.settings.model_copy(update={"alert_rules": rules}))
    log_traffic(services, rows=600, shift=30.0)  # the amounts move three sd: drifted
    _due(services, "fraud-drift", reference="transactions:1")
    assert MonitorRunner(wired, 1.0, holder="a").look(now=NOW) == ["fraud-drift"]
    (alert,) = services.alerts("dana").list_alerts()
    assert (alert.rule, alert.state.status.value, alert.deployment) == ("drift-high", "firing", "fraud-api")


def test_a_broken_rule_file_leaves_the_monitors_running(local: tuple[Settings, Services], tmp_path: Path) -> None:
    _settings, services = local
    rules = tmp_path / "alerts.yaml"
    rules.write_text("rules: [{name: x, metric: no.such.metric}]\n", encoding="utf-8")
    wired = dataclasses.replace(services, settings=services.settings.model_copy(update={"alert_rules": rules}))
    log_traffic(services, rows=300)
    _due(services, "fraud-drift", reference="transactions:1")
    assert MonitorRunner(wired, 1.0, holder="a").look(now=NOW) == ["fraud-drift"]
    assert services.alerts("dana").list_alerts() == []
