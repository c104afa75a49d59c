"""Steward entities in MLflow's protobuf JSON mapping, and MLflow's names mapped back.

MLflow keeps a run's name and user in the ``mlflow.runName`` and ``mlflow.user`` tags as
well as in ``run.info``; Steward keeps them as run attributes only. Incoming tags with
those keys become the attributes; outgoing runs show them as tags again.
"""

from __future__ import annotations

from typing import Any

from steward.core import Experiment, Metric, Run, RunStatus
from steward.core.codec import float_out
from steward.core.logged_models import LoggedModel, LoggedModelStatus
from steward.errors import InvalidInputError

JSON = dict[str, Any]  # Any: JSON values

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"

_STATUS_OUT = {
    RunStatus.RUNNING: "RUNNING",
    RunStatus.FINISHED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.KILLED: "KILLED",
}
# Steward has no queue, so a SCHEDULED run is simply a running one.
_STATUS_IN = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.RUNNING,
    "FINISHED": RunStatus.FINISHED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.KILLED,
}
# Protobuf's JSON mapping accepts an enum's number as well as its name.
_STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_VIEW_NUMBERS = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
VIEW_TYPES = frozenset(_VIEW_NUMBERS.values())


def status_in(raw: str | int) -> RunStatus:
    """MLflow's run status (name or number) as Steward's."""
    name = _STATUS_NUMBERS.get(raw, "") if isinstance(raw, int) else raw.upper()
    if name not in _STATUS_IN:
        raise InvalidInputError(
            f"status must be one of {', '.join(_STATUS_IN)}", field="status"
        )
    return _STATUS_IN[name]


def view_type_in(raw: str | int | None) -> str:
    """MLflow's ViewType (name or number); ACTIVE_ONLY when absent."""
    if raw is None or raw == "":
        return "ACTIVE_ONLY"
    name = _VIEW_NUMBERS.get(raw, "") if isinstance(raw, int) else raw.upper()
    if name not in VIEW_TYPES:
        raise InvalidInputError(f"view type must be one of {', '.join(sorted(VIEW_TYPES))}", field="view_type")
    return name


def experiment_artifact_location(experiment_id: str) -> str:
    return f"mlflow-artifacts:/{experiment_id}"


def run_artifact_uri(run: Run) -> str:
    """Where the mlflow client sends artifacts: the server's artifact proxy."""
    return f"mlflow-artifacts:/{run.experiment_id}/{run.run_id}/artifacts"


def experiment_json(e: Experiment) -> JSON:
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": experiment_artifact_location(e.experiment_id),
        "lifecycle_stage": e.lifecycle_stage,
        "creation_time": e.created_at,
        "last_update_time": e.created_at,
        "tags": [{"key": k, "value": v} for k, v in sorted(e.tags.items())],
    }


def metric_json(m: Metric) -> JSON:
    return {"key": m.key, "value": float_out(m.value), "timestamp": m.timestamp, "step": m.step}


def run_info_json(r: Run) -> JSON:
    info: JSON = {
        "run_id": r.run_id,
        "run_uuid": r.run_id,
        "run_name": r.name,
        "experiment_id": r.experiment_id,
        "user_id": r.user,
        "status": _STATUS_OUT[r.status],
        "start_time": r.start_time,
        "artifact_uri": run_artifact_uri(r),
        "lifecycle_stage": r.lifecycle_stage,
    }
    if r.end_time is not None:
        info["end_time"] = r.end_time
    return info


def run_json(r: Run) -> JSON:
    tags = {**r.tags, RUN_NAME_TAG: r.name, USER_TAG: r.user}
    return {
        "info": run_info_json(r),
        "data": {
            "metrics": [metric_json(m) for _, m in sorted(r.metrics.items())],
            "params": [{"key": k, "value": v} for k, v in sorted(r.params.items())],
            "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
        },
        "inputs": {
            "dataset_inputs": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": i.role}],
                    "dataset": {"name": i.dataset, "digest": "", "source_type": "steward", "source": i.dataset},
                }
                for i in r.inputs
            ]
        },
    }



# -- logged models (MLflow 3) --------------------------------------------------------------

_MODEL_STATUS_OUT = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}


def logged_model_artifact_uri(m: LoggedModel) -> str:
    """Where the mlflow client sends a logged model's files: the server's artifact proxy."""
    return f"mlflow-artifacts:/{m.experiment_id}/models/{m.model_id}/artifacts"


def logged_model_json(m: LoggedModel) -> JSON:
    info: JSON = {
        "model_id": m.model_id,
        "experiment_id": m.experiment_id,
        "name": m.name,
        "creation_timestamp_ms": m.created_at,
        "last_updated_timestamp_ms": m.updated_at,
        "artifact_uri": logged_model_artifact_uri(m),
        "status": _MODEL_STATUS_OUT[m.status],
        "tags": [{"key": k, "value": v} for k, v in sorted(m.tags.items())],
    }
    if m.model_type:
        info["model_type"] = m.model_type
    if m.source_run_id:
        info["source_run_id"] = m.source_run_id
    if m.status_message:
        info["status_message"] = m.status_message
    metrics = []
    for p in m.metrics:
        point: JSON = {"key": p.key, "value": float_out(p.value), "timestamp": p.timestamp, "step": p.step, "model_id": m.model_id}
        for name in ("run_id", "dataset_name", "dataset_digest"):
            if getattr(p, name):
                point[name] = getattr(p, name)
        metrics.append(point)
    return {
        "info": info,
        "data": {"params": [{"key": k, "value": v} for k, v in sorted(m.params.items())], "metrics": metrics},
    }
