"""Service health and cost of one window of a deployment's prediction log.

Latency percentiles are taken per request (every row of a request carries the request's
latency, so a batch request counts once). Throughput is requests and predicted rows per
second of the window. The error rate comes from what the serving processes report
(``deployment_stats``): failed requests never reach the prediction log.

Cost per 1,000 predictions = CPU-seconds / 3600 x price per CPU-hour / rows x 1000, from the
CPU time the serving process measured around each model call (``time.thread_time`` of the
predicting thread, a batch's time shared by its rows). The serving processes report it with
their stats (``deployment_stats.cpu_ms`` and ``rows``: every answered request, sampled out of
the log or not), which is used when reports cover the window (``cpu_seconds_source:
serving_reports``); otherwise the prediction log's per-row ``cpu_ms`` (``prediction_log``).
Only measured rows count: a window served before CPU was measured has no cost rather than an
estimate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["health"]



def _per_request_latency_ms(table: pa.Table) -> np.ndarray[Any, np.dtype[np.float64]]:
    if "latency_ms" not in table.column_names or table.num_rows == 0:
        return np.zeros(0)
    if "request_id" in table.column_names:
        grouped = table.select(["request_id", "latency_ms"]).group_by("request_id").aggregate([("latency_ms", "max")])
        values = grouped.column("latency_ms_max")
    else:
        values = table.column("latency_ms")
    out = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(out[np.isfinite(out)], dtype=np.float64)


def _measured_cpu(table: pa.Table) -> tuple[float, int]:
    """(CPU-seconds of the rows that carry a measurement, how many rows do)."""
    if "cpu_ms" not in table.column_names or table.num_rows == 0:
        return 0.0, 0
    values = pc.cast(table.column("cpu_ms"), pa.float64())
    measured = int(len(values) - values.null_count)
    total = pc.sum(values).as_py() if measured else 0.0
    return float(total or 0.0) / 1000.0, measured


def health(
    table: pa.Table,
    window_s: float,
    *,
    requests_and_errors: tuple[int, int] | None,
    price_per_cpu_hour: float,
    reported_cpu: tuple[float, int] | None = None,
) -> dict[str, Any]:  # Any: JSON
    """Latency percentiles, error rate, throughput and cost of one window.

    Args:
        table: the window's rows of the prediction log.
        window_s: the window's length in seconds.
        requests_and_errors: (requests, errors) reported by the serving processes, if any.
        price_per_cpu_hour: the configured price of one CPU-hour.
        reported_cpu: (CPU-seconds, rows) the serving processes reported for the window, if any.

    Returns:
        ``{"rows", "requests", "latency_ms": {"p50", "p95", "p99"}, "error_rate",
        "throughput_rps", "rows_per_s", "cost": {...}}`` (None where nothing was measured).
    """
    latencies = _per_request_latency_ms(table)
    requests = int(latencies.size)
    rows = int(table.num_rows)
    if latencies.size:
        p50, p95, p99 = (float(v) for v in np.percentile(latencies, [50, 95, 99]))
        percentiles: dict[str, float | None] = {"p50": p50, "p95": p95, "p99": p99}
    else:
        percentiles = {"p50": None, "p95": None, "p99": None}
    error_rate = None
    reported = None
    if requests_and_errors is not None and requests_and_errors[0] > 0:
        reported = requests_and_errors[0]
        error_rate = requests_and_errors[1] / requests_and_errors[0]
    cpu_seconds, measured = _measured_cpu(table)
    source = "prediction_log"
    if reported_cpu is not None and reported_cpu[1] > 0:
        (cpu_seconds, measured), source = reported_cpu, "serving_reports"
    per_1000 = cpu_seconds / 3600.0 * price_per_cpu_hour / measured * 1000.0 if measured else None
    return {
        "rows": rows,
        "requests": requests,
        "latency_ms": percentiles,
        "error_rate": error_rate,
        "reported_requests": reported,
        "throughput_rps": requests / window_s if window_s > 0 else None,
        "rows_per_s": rows / window_s if window_s > 0 else None,
        "cost": {
            "cpu_seconds": cpu_seconds if measured else None,
            "cpu_seconds_source": source if measured else None,
            "measured_rows": measured,
            "price_per_cpu_hour": price_per_cpu_hour,
            "per_1000_predictions": per_1000,
            "note": None if measured else "no row of the window carries a measured CPU time: no cost",
        },
    }
