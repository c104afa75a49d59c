"""Prometheus metrics of a serving process, and the per-variant windows the rollout reads.

With several worker processes, prometheus-client's multiprocess mode is on (the parent
sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start): each worker writes its values
to files in that folder and ``/metrics`` sums them, so any worker answers for all.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from pathlib import Path

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client import values as prom_values

from steward.core.traffic import LATENCY_BUCKETS_MS, VariantStats

__all__ = ["ServingMetrics", "StatsWindow", "multiprocess_dir"]

_LABELS = ("deployment", "model", "version", "variant")
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, float("inf"))


def multiprocess_dir() -> Path | None:
    """The folder of multiprocess mode, when the parent turned it on."""
    # prometheus-client itself reads this variable; we only look at what it will do
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def forget_dead_workers(folder: Path) -> None:
    """Drop the live gauges of workers that died (a SIGKILLed worker cannot do it itself)."""
    for file in folder.glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            prom_multiprocess.mark_process_dead(int(pid), str(folder))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ServingMetrics:
    """Requests, errors, latency, batch sizes and in-flight requests of this process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.folder = multiprocess_dir()
        if self.folder is not None:
            # prometheus-client picks its value storage when first imported; a worker forked
            # from a parent that imported it before the folder was chosen must switch here
            prom_values.ValueClass = prom_values.MultiProcessValue()  # type: ignore[no-untyped-call]
            forget_dead_workers(self.folder)
        buckets = tuple(b / 1000 for b in LATENCY_BUCKETS_MS)
        self.requests = Counter("steward_serving_requests", "Prediction requests answered.", _LABELS, registry=self.registry)
        self.errors = Counter(
            "steward_serving_errors", "Requests that ended in an error, by HTTP status.", (*_LABELS, "status"), registry=self.registry
        )
        self.latency = Histogram(
            "steward_serving_request_duration_seconds", "Server-side latency of prediction requests.", _LABELS,
            buckets=buckets, registry=self.registry,
        )
        self.batch_size = Histogram(
            "steward_serving_batch_size", "Rows per model predict call (micro-batches).", ("deployment", "model", "version", "variant"),
            buckets=_BATCH_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            "steward_serving_in_flight", "Requests being handled.", registry=self.registry, multiprocess_mode="livesum"
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every worker (or of this one)."""
        if self.folder is None:
            return prometheus_client.generate_latest(self.registry)
        merged = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(merged, path=str(self.folder))  # type: ignore[no-untyped-call]
        return prometheus_client.generate_latest(merged)


class StatsWindow:
    """Counts per (revision, variant) since the last report: what ``record_stats`` receives."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._start = _now_ms()
        self._cells: dict[tuple[int, str, str], list[int]] = {}
        self._cpu: dict[tuple[int, str, str], list[float]] = {}  # measured CPU-ms and rows of answered requests
        self._bounds = list(LATENCY_BUCKETS_MS)

    def observe(
        self, revision: int, variant: str, model: str, latency_ms: float, error: bool, *, cpu_ms: float = 0.0, rows: int = 0
    ) -> None:
        key = (revision, variant, model)
        with self._lock:
            cell = self._cells.get(key)
            if cell is None:
                cell = self._cells[key] = [0] * (2 + len(self._bounds))
                self._cpu[key] = [0.0, 0]
            cell[0] += 1
            cell[1] += int(error)
            cell[2 + bisect_left(self._bounds, latency_ms)] += 1
            cpu = self._cpu[key]
            cpu[0] += cpu_ms
            cpu[1] += rows

    def take(self) -> list[VariantStats]:
        """The window's stats (one per variant seen), starting a new window."""
        end = _now_ms()
        with self._lock:
            cells, self._cells = self._cells, {}
            cpu, self._cpu = self._cpu, {}
            start, self._start = self._start, end
        return [
            VariantStats(
                self.deployment, rev, variant, model, start, end, c[0], c[1], tuple(c[2:]),
                cpu_ms=float(cpu[(rev, variant, model)][0]), rows=int(cpu[(rev, variant, model)][1]),
            )
            for (rev, variant, model), c in cells.items()
        ]


def _now_ms() -> int:
    return int(time.time() * 1000)
