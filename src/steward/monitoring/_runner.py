"""The server's monitor runner: runs each scheduled monitor when due, under a lease.

Every server replica runs one :func:`monitor_runner` in its lifespan. Each look
(``STEWARD_MONITOR_INTERVAL``) lists the monitors whose next run is due; for each, the
runner takes the monitor's lease row (as the rollout controller does for a deployment),
moves the next run on by the cron schedule, computes the window and gives the lease back.
Another replica that looks at the same time loses the lease and skips the monitor, so a
window is computed once. A monitor that fails is stored as ``failed`` (by the service) or
logged here; it never stops the loop or the server, and the computation runs in a worker
thread so the event loop keeps serving.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward._background import every_interval
from steward.errors import StewardError
from steward.tracking import now_ms

from ._ports import MonitorResult

if TYPE_CHECKING:
    from steward.wiring import Services

__all__ = ["RUNNER_ACTOR", "MonitorRunner", "monitor_runner"]

log = logging.getLogger("steward.monitoring.runner")

RUNNER_ACTOR = "steward-monitor"  # who the audit trail names for scheduled runs
_LEASE_INTERVALS = 3


class MonitorRunner:
    """Runs due monitors of one process.

    Args:
        services: the process's services.
        interval: seconds between looks (the lease lasts three).
        holder: this runner's id in the lease rows (default host:pid:random).
    """

    def __init__(self, services: Services, interval: float, holder: str | None = None) -> None:
        self.services = services
        self.interval = interval
        self.holder = holder or f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def look(self, now: int | None = None) -> list[str]:
        """Run every due monitor this runner wins the lease of.

        Returns:
            The names of the monitors run (whatever their result).
        """
        service = self.services.monitors(RUNNER_ACTOR)
        at = now_ms() if now is None else now
        ran: list[str] = []
        ttl_ms = int(max(self.interval * _LEASE_INTERVALS, 1.0) * 1000)
        for monitor in service.due_monitors(at):
            try:
                if not service.store.acquire_lease(monitor.name, self.holder, at, ttl_ms):
                    continue
                try:
                    # moved on first: a monitor that fails every time is retried at its next slot, not in a loop
                    service.schedule_next(monitor, at)
                    result = service.run_monitor(monitor.name, now=at)
                    ran.append(monitor.name)
                    self._alert(monitor.deployment, result)
                finally:
                    service.store.release_lease(monitor.name, self.holder)
            except Exception as exc:  # noqa: BLE001 - one monitor's failure (a store error, a bug) never stops the others
                log.warning("monitor %s: scheduled run failed: %s", monitor.name, exc)
        self._staleness(service.store, at, ttl_ms)
        return ran

    def _staleness(self, leases: Any, at: int, ttl_ms: int) -> None:  # Any: the monitor store (its leases)
        """Feed feature views' staleness to the rules on ``feature.staleness_seconds.<view>``, under
        a lease of its own (``_feature-staleness``: no monitor can be named so), once per look of
        the replica holding it."""
        path = self.services.settings.alert_rules
        if path is None:
            return
        from steward.monitoring._alert_rules import parse_alert_rules
        from steward.monitoring._freshness import evaluate_staleness, watches_staleness

        try:
            rules = parse_alert_rules(Path(path).read_text(encoding="utf-8"))
            if not watches_staleness(rules) or not leases.acquire_lease("_feature-staleness", self.holder, at, ttl_ms):
                return
            # the lease is kept and renewed each look (not given back): one replica evaluates
            evaluate_staleness(self.services.alerts(RUNNER_ACTOR), self.services.features(RUNNER_ACTOR), rules, now_ms=at)
        except (OSError, StewardError) as exc:
            log.warning("alert rules %s: feature staleness not evaluated: %s", path, exc)


    def _alert(self, deployment: str, result: MonitorResult) -> None:
        """Feed the window's metrics to the configured alert rules (``STEWARD_ALERT_RULES``)."""
        path = self.services.settings.alert_rules
        if path is None or result.status == "failed":
            return
        from steward.monitoring._alert_rules import parse_alert_rules

        try:
            rules = parse_alert_rules(Path(path).read_text(encoding="utf-8"))
            self.services.alerts(RUNNER_ACTOR).evaluate(rules, result.observations(), deployment=deployment)
        except (OSError, StewardError) as exc:
            # a broken rule file is the operator's to fix; the monitors keep running
            log.warning("alert rules %s: not evaluated: %s", path, exc)


@asynccontextmanager
async def monitor_runner(services: Services, interval: float) -> AsyncIterator[MonitorRunner]:
    """Look for due monitors every ``interval`` seconds in the background while the server runs."""
    runner = MonitorRunner(services, interval)
    async with every_interval(runner.look, interval, name="monitor runner look", log=log):
        yield runner
