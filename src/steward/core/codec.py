"""JSON-ready dicts for the tracking entities, shared by the server and the HTTP client.

Non-finite metric values become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
(as protobuf's JSON mapping does), because JSON has no such numbers.
"""

from __future__ import annotations

import math
from typing import Any

from steward.core.entities import Experiment, Metric, Run, RunInput, RunStatus

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def float_out(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def float_in(value: Any) -> float:  # Any: decoded JSON
    if isinstance(value, str):
        return _NON_FINITE[value]
    return float(value)


def experiment_to_dict(e: Experiment) -> dict[str, Any]:  # Any: JSON values
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "created_at": e.created_at,
        "lifecycle_stage": e.lifecycle_stage,
        "tags": dict(e.tags),
        "project": e.project,
    }


def experiment_from_dict(d: dict[str, Any]) -> Experiment:  # Any: decoded JSON
    return Experiment(
        str(d["experiment_id"]), d["name"], int(d["created_at"]), d.get("lifecycle_stage", "active"), dict(d.get("tags", {})),
        str(d.get("project") or d["name"]),
    )


def metric_to_dict(m: Metric) -> dict[str, Any]:  # Any: JSON values
    return {"key": m.key, "value": float_out(m.value), "step": m.step, "timestamp": m.timestamp}


def metric_from_dict(d: dict[str, Any]) -> Metric:  # Any: decoded JSON
    return Metric(d["key"], float_in(d["value"]), int(d.get("step", 0)), int(d.get("timestamp", 0)))


def run_to_dict(r: Run) -> dict[str, Any]:  # Any: JSON values
    return {
        "run_id": r.run_id,
        "experiment_id": r.experiment_id,
        "name": r.name,
        "status": r.status.value,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "user": r.user,
        "note": r.note,
        "lifecycle_stage": r.lifecycle_stage,
        "artifact_uri": r.artifact_uri,
        "params": dict(r.params),
        "metrics": {k: metric_to_dict(m) for k, m in r.metrics.items()},
        "tags": dict(r.tags),
        "inputs": [{"dataset": i.dataset, "role": i.role} for i in r.inputs],
    }


def run_from_dict(d: dict[str, Any]) -> Run:  # Any: decoded JSON
    return Run(
        run_id=d["run_id"],
        experiment_id=str(d["experiment_id"]),
        name=d["name"],
        status=RunStatus(d["status"]),
        start_time=int(d["start_time"]),
        end_time=d.get("end_time"),
        user=d.get("user", ""),
        note=d.get("note", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        params=dict(d.get("params", {})),
        metrics={k: metric_from_dict(m) for k, m in d.get("metrics", {}).items()},
        tags=dict(d.get("tags", {})),
        inputs=tuple(RunInput(i["dataset"], i.get("role", "train")) for i in d.get("inputs", [])),
    )
