"""What the monitoring stage needs from storage: monitor definitions, per-window results, leases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from steward.core.alerts import Observation
from steward.tracking import AuditEvent

__all__ = ["Monitor", "MonitorResult", "MonitorStore"]

JSON = dict[str, Any]  # Any: JSON values


@dataclass(frozen=True, slots=True)
class Monitor:
    """A monitor: which deployment it watches, against what, how often.

    Attributes:
        name: ``[a-z0-9][a-z0-9-]{0,62}``.
        deployment: the deployment whose prediction log is read.
        project: the deployment's project (every permission check of the monitor uses it).
        reference: a dataset version ref (``transactions:3``) or a time window of the log
            (``<start ms>/<end ms>``).
        window_s: seconds of log one run reads (the latest window).
        schedule: a 5-field cron expression in UTC; None: runs only on demand.
        options: ``sensitive`` (attributes for fairness), ``min_rows``, ``sensitivity``.
        next_run_at: when the server's runner runs it next (epoch ms; None: never).
    """

    name: str
    deployment: str
    project: str
    reference: str
    window_s: int
    schedule: str | None
    options: JSON
    next_run_at: int | None
    created_at: int
    created_by: str

    def to_dict(self) -> JSON:
        return {
            "name": self.name,
            "deployment": self.deployment,
            "project": self.project,
            "reference": self.reference,
            "window_s": self.window_s,
            "schedule": self.schedule,
            "sensitive": list(self.options.get("sensitive", [])),
            "min_rows": self.options.get("min_rows"),
            "sensitivity": self.options.get("sensitivity"),
            "embeddings": list(self.options.get("embeddings", [])),
            "next_run_at": self.next_run_at,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """One computed window of a monitor.

    Attributes:
        status: ``ok``, ``drift``, ``concept_drift``, ``insufficient_data`` or ``failed``.
        summary: drift, prediction drift, quality, fairness, health and cost of the window.
        error: why a ``failed`` run failed (one line).
    """

    id: int
    monitor: str
    window_start: int
    window_end: int
    status: str
    summary: JSON = field(default_factory=dict)
    error: str | None = None
    created_at: int = 0
    created_by: str = ""

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "monitor": self.monitor,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "status": self.status,
            "summary": self.summary,
            "error": self.error,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


    def observations(self) -> dict[str, Observation]:
        """The window's metrics as alert rules read them (``summary.metrics``): quality and
        fairness metrics count the labelled rows as their sample, the others all rows. A
        window that could not judge a metric (too few rows) does not observe it."""
        metrics = self.summary.get("metrics") or {}
        rows = int(self.summary.get("rows") or 0)
        labelled = int((self.summary.get("quality") or {}).get("labelled_rows") or 0)
        return {
            name: Observation(
                self.window_end, None if value is None else float(value),
                labelled if name.startswith(("quality.", "fairness.")) else rows, self.window_start,
            )
            for name, value in metrics.items()
        }


class MonitorStore(Protocol):
    """Monitors, their results and runner leases (``adapters/sql/_monitor_store.py``)."""

    def create_monitor(self, monitor: Monitor, audit: AuditEvent) -> Monitor: ...

    def get_monitor(self, name: str) -> Monitor: ...

    def list_monitors(self, project: str | None, projects: frozenset[str] | None = None) -> list[Monitor]: ...

    def delete_monitor(self, name: str, audit: AuditEvent) -> None: ...

    def due_monitors(self, now: int) -> list[Monitor]: ...

    def set_next_run(self, name: str, next_run_at: int | None) -> None: ...

    def add_result(self, result: MonitorResult, audit: AuditEvent) -> MonitorResult: ...

    def list_results(self, name: str, limit: int) -> list[MonitorResult]: ...

    def request_stats(self, deployment: str, start: int, end: int) -> tuple[int, int] | None: ...

    def cpu_stats(self, deployment: str, start: int, end: int) -> tuple[float, int] | None:
        """Measured CPU-seconds and predicted rows the serving processes reported in ``[start, end)``
        (None: no report with a measurement covers the window)."""
        ...

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...
