"""MLflow's REST tracking API (``/api/2.0/mlflow/...``) on Steward's tracking service.

Existing code using the ``mlflow`` client with ``MLFLOW_TRACKING_URI`` pointed at a
Steward server logs runs that Steward stores and shows. Each route parses MLflow's JSON,
calls the tracking service, and answers in MLflow's JSON (see ``_codec``) or
MLflow's error shape (see ``_errors``).

As MLflow allows, metrics, params, tags and inputs may be logged to an ended run (the
audit row's action is then ``runs.log_after_end``), and ``start_run(run_id=...)`` reopens
one (``runs.resume``); Steward's own API keeps ended runs closed. MLflow's default
experiment id ``"0"`` names Steward's experiment ``Default``, created on first use.
``/ajax-api/2.0/mlflow/...`` is an alias (MLflow's web UI uses it). MLflow 3's logged
models are served by ``_logged_models``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import JSONResponse

from steward.core import Metric, RunInput, RunStatus
from steward.core.limits import check_batch_size
from steward.core.logged_models import LoggedModelMetric
from steward.errors import InvalidInputError, NotFoundError
from steward.tracking import LoggedModelService, TrackingService

from .._deps import Readable, logged_model_service, tracking_service
from .._metrics import parse_metrics
from ._artifacts import router as artifacts_router
from ._codec import (
    RUN_NAME_TAG,
    USER_TAG,
    experiment_json,
    metric_json,
    run_info_json,
    run_json,
    status_in,
    view_type_in,
)
from ._errors import MlflowRoute, mlflow_error
from ._filters import (
    filter_experiments,
    order_experiments,
    translate_order_by,
    translate_run_filter,
)
from ._logged_models import api as logged_models_api
from ._registry import router as registry_api
from ._schemas import (
    CreateExperimentBody,
    CreateRunBody,
    DeleteTagBody,
    ExperimentIdBody,
    LogBatchBody,
    LogInputsBody,
    LogMetricBody,
    RunIdBody,
    SearchExperimentsBody,
    SearchRunsBody,
    SetExperimentTagBody,
    SetKeyValueBody,
    UpdateExperimentBody,
    UpdateRunBody,
    as_dict,
)

Tracking = Annotated[TrackingService, Depends(tracking_service)]
Models = Annotated[LoggedModelService, Depends(logged_model_service)]
JSON = dict[str, Any]  # Any: JSON values

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
_MAX_PAGE = 10_000  # Steward's page limit; a larger request gets a page and a token

api = APIRouter(route_class=MlflowRoute)


def _required(value: object, field: str) -> str:
    if value is None or value == "":
        raise InvalidInputError(f"Missing value for required parameter '{field}'", field=field)
    return str(value)


def _run_id(body: RunIdBody) -> str:
    return _required(body.run_id or body.run_uuid, "run_id")


def _experiment_id(svc: TrackingService, raw: object) -> str:
    """Steward's id for an MLflow experiment id; ``"0"`` is the ``Default`` experiment."""
    experiment_id = _required(raw, "experiment_id")
    if experiment_id == DEFAULT_EXPERIMENT_ID:
        return svc.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME).experiment_id
    return experiment_id


def _page(max_results: int | None, default: int) -> int:
    if max_results is None or max_results == 0:
        return default
    if max_results < 0:
        raise InvalidInputError("max_results must be positive", field="max_results")
    return min(max_results, _MAX_PAGE)


# -- experiments -------------------------------------------------------------------------


@api.post("/experiments/create", summary="MLflow: create an experiment")
def create_experiment(body: CreateExperimentBody, svc: Tracking) -> JSON:
    name = _required(body.name, "name")
    return {"experiment_id": svc.create_experiment(name, as_dict(body.tags)).experiment_id}


@api.get("/experiments/get", summary="MLflow: get an experiment")
def get_experiment(svc: Tracking, experiment_id: Annotated[str | None, Query(max_length=64)] = None) -> JSON:
    return {"experiment": experiment_json(svc.get_experiment(_experiment_id(svc, experiment_id)))}


@api.get("/experiments/get-by-name", summary="MLflow: get an experiment by name")
def get_experiment_by_name(svc: Tracking, experiment_name: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    name = _required(experiment_name, "experiment_name")
    found = svc.get_experiment_by_name(name)
    if found is None:
        raise NotFoundError(f"Could not find experiment with name '{name}'", field="experiment_name")
    return {"experiment": experiment_json(found)}


def _search_experiments(svc: TrackingService, body: SearchExperimentsBody, readable: frozenset[str] | None) -> JSON:
    view = view_type_in(body.view_type)
    found = svc.list_experiments(include_deleted=view != "ACTIVE_ONLY", projects=readable)
    if view == "DELETED_ONLY":
        found = [e for e in found if e.lifecycle_stage == "deleted"]
    ordered = order_experiments(filter_experiments(found, body.filter), body.order_by)
    size = _page(body.max_results, 1000)
    start = _offset(body.page_token)
    out: JSON = {"experiments": [experiment_json(e) for e in ordered[start : start + size]]}
    if start + size < len(ordered):
        out["next_page_token"] = str(start + size)
    return out


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit() or len(token) > 12:
        raise InvalidInputError("page_token is not one this server issued", field="page_token")
    return int(token)


@api.post("/experiments/search", summary="MLflow: search experiments")
def search_experiments(body: SearchExperimentsBody, svc: Tracking, readable: Readable) -> JSON:
    return _search_experiments(svc, body, readable)


@api.get("/experiments/search", summary="MLflow: search experiments (query string)")
def search_experiments_get(
    svc: Tracking,
    readable: Readable,
    max_results: int | None = None,
    page_token: Annotated[str | None, Query(max_length=64)] = None,
    filter: Annotated[str | None, Query(max_length=10_000)] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    view_type: Annotated[str | None, Query(max_length=20)] = None,
) -> JSON:
    view: str | int | None = int(view_type) if view_type and view_type.isdigit() else view_type
    body = SearchExperimentsBody(
        max_results=max_results, page_token=page_token, filter=filter, order_by=order_by or [], view_type=view
    )
    return _search_experiments(svc, body, readable)


@api.post("/experiments/delete", summary="MLflow: delete an experiment")
def delete_experiment(body: ExperimentIdBody, svc: Tracking) -> JSON:
    svc.delete_experiment(_experiment_id(svc, body.experiment_id))
    return {}


@api.post("/experiments/restore", summary="MLflow: restore a deleted experiment")
def restore_experiment(body: ExperimentIdBody, svc: Tracking) -> JSON:
    svc.restore_experiment(_experiment_id(svc, body.experiment_id))
    return {}


@api.post("/experiments/update", summary="MLflow: rename an experiment")
def update_experiment(body: UpdateExperimentBody, svc: Tracking) -> JSON:
    svc.rename_experiment(_experiment_id(svc, body.experiment_id), _required(body.new_name, "new_name"))
    return {}


@api.post("/experiments/set-experiment-tag", summary="MLflow: tag an experiment")
def set_experiment_tag(body: SetExperimentTagBody, svc: Tracking) -> JSON:
    svc.set_experiment_tag(_experiment_id(svc, body.experiment_id), _required(body.key, "key"), body.value or "")
    return {}


# -- runs --------------------------------------------------------------------------------


@api.post("/runs/create", summary="MLflow: create a run")
def create_run(body: CreateRunBody, svc: Tracking) -> JSON:
    tags = as_dict(body.tags)
    name = body.run_name or tags.pop(RUN_NAME_TAG, None)
    tags.pop(RUN_NAME_TAG, None)
    user = body.user_id or tags.pop(USER_TAG, None)
    tags.pop(USER_TAG, None)
    run = svc.create_run(
        _experiment_id(svc, body.experiment_id), name=name, tags=tags, start_time=body.start_time, user=user
    )
    return {"run": run_json(run)}


@api.get("/runs/get", summary="MLflow: get a run")
def get_run(
    svc: Tracking,
    models: Models,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    run_uuid: Annotated[str | None, Query(max_length=64)] = None,
) -> JSON:
    run = svc.get_run(_run_id(RunIdBody(run_id=run_id, run_uuid=run_uuid)))
    out = run_json(run)
    # the logged models the run produced (runs/search leaves them out: a query per page)
    outputs = models.run_outputs(run.run_id)
    if outputs:
        out["outputs"] = {"model_outputs": [{"model_id": m, "step": step} for m, step in outputs]}
    return {"run": out}


@api.post("/runs/update", summary="MLflow: end or rename a run")
def update_run(body: UpdateRunBody, svc: Tracking) -> JSON:
    run_id = _run_id(body)
    run = svc.get_run(run_id)
    if body.run_name:
        run = svc.update_run(run_id, name=body.run_name)
    if body.status is not None and body.status != "":
        status = status_in(body.status)
        if status.is_terminal:
            run = svc.end_run(run_id, status, end_time=body.end_time)
        elif run.status is not RunStatus.RUNNING:
            run = svc.resume_run(run_id)  # start_run(run_id=...) of an ended run
    return {"run_info": run_info_json(run)}


@api.post("/runs/delete", summary="MLflow: delete a run")
def delete_run(body: RunIdBody, svc: Tracking) -> JSON:
    svc.delete_run(_run_id(body))
    return {}


@api.post("/runs/restore", summary="MLflow: restore a deleted run")
def restore_run(body: RunIdBody, svc: Tracking) -> JSON:
    svc.restore_run(_run_id(body))
    return {}


def _log(svc: TrackingService, run_id: str, metrics: list[Metric], params: dict[str, str], tags: dict[str, str]) -> None:
    """Log a batch; the name and user tags update run attributes instead of tags."""
    name = tags.pop(RUN_NAME_TAG, None)
    tags.pop(USER_TAG, None)  # the user who created a run does not change
    if name:
        svc.update_run(run_id, name=name)
    svc.log_batch(run_id, metrics=metrics, params=params, tags=tags, allow_ended=True)


@api.post("/runs/log-metric", summary="MLflow: log one metric point")
def log_metric(body: LogMetricBody, svc: Tracking) -> JSON:
    point: JSON = {"key": _required(body.key, "key"), "value": body.value, "step": body.step or 0}
    if body.timestamp is not None:
        point["timestamp"] = body.timestamp
    if body.value is None:
        raise InvalidInputError("Missing value for required parameter 'value'", field="value")
    _log(svc, _run_id(body), parse_metrics([point]), {}, {})
    return {}


@api.post("/runs/log-parameter", summary="MLflow: log one param")
def log_param(body: SetKeyValueBody, svc: Tracking) -> JSON:
    _log(svc, _run_id(body), [], {_required(body.key, "key"): "" if body.value is None else str(body.value)}, {})
    return {}


@api.post("/runs/set-tag", summary="MLflow: set a run tag")
def set_tag(body: SetKeyValueBody, svc: Tracking) -> JSON:
    _log(svc, _run_id(body), [], {}, {_required(body.key, "key"): "" if body.value is None else str(body.value)})
    return {}


@api.post("/runs/delete-tag", summary="MLflow: delete a run tag")
def delete_tag(body: DeleteTagBody, svc: Tracking) -> JSON:
    key = _required(body.key, "key")
    if key in (RUN_NAME_TAG, USER_TAG):
        raise InvalidInputError(f"tag {key!r} is a run attribute in Steward and cannot be deleted", field="key")
    svc.delete_tag(_run_id(body), key)
    return {}


_POINT_FIELDS = ("key", "value", "step", "timestamp")


@api.post("/runs/log-batch", summary="MLflow: log metrics, params and tags at once")
def log_batch(body: LogBatchBody, svc: Tracking, models: Models) -> JSON:
    # MLflow's Metric message also carries run_id, model_id and dataset fields: a run keeps
    # points only (a point's run is the batch's run); points naming a logged model are
    # also recorded for that model, as MLflow's server does.
    check_batch_size(metrics=len(body.metrics), params=len(body.params), tags=len(body.tags), mlflow=True)
    points = [{k: p[k] for k in _POINT_FIELDS if k in p} for p in body.metrics]
    run_id = _run_id(body)
    parsed = parse_metrics(points)
    _log(svc, run_id, parsed, as_dict(body.params), as_dict(body.tags))
    by_model: dict[str, list[LoggedModelMetric]] = {}
    for raw, point in zip(body.metrics, parsed, strict=True):
        model_id = raw.get("model_id")
        if isinstance(model_id, str) and model_id:
            dataset = {k: str(raw.get(k) or "")[:500] for k in ("dataset_name", "dataset_digest")}
            by_model.setdefault(model_id, []).append(
                LoggedModelMetric(point.key, point.value, point.step, point.timestamp, run_id, **dataset)
            )
    models.log_metrics(run_id, by_model)
    return {}


@api.post("/runs/log-inputs", summary="MLflow: record the datasets a run used")
def log_inputs(body: LogInputsBody, svc: Tracking) -> JSON:
    inputs = []
    for i, item in enumerate(body.datasets):
        name = _required(item.dataset.name, f"datasets[{i}].dataset.name")
        role = as_dict(item.tags).get("mlflow.data.context") or "train"
        inputs.append(RunInput(name, role))
    svc.log_inputs(_run_id(body), inputs, allow_ended=True)
    return {}


@api.post("/runs/search", summary="MLflow: search runs")
def search_runs(body: SearchRunsBody, svc: Tracking, readable: Readable) -> JSON:
    view = view_type_in(body.run_view_type)
    ids = [_experiment_id(svc, e) for e in body.experiment_ids]
    if not ids:
        return {"runs": []}
    page = svc.search_runs(
        ids,
        filter=translate_run_filter(body.filter),
        order_by=translate_order_by(body.order_by),
        max_results=_page(body.max_results, 1000),
        page_token=body.page_token or None,
        include_deleted=view != "ACTIVE_ONLY",
        projects=readable,
    )
    # Steward has no lifecycle filter in its language; deleted-only pages may come out short
    runs = [r for r in page.runs if view != "DELETED_ONLY" or r.lifecycle_stage == "deleted"]
    out: JSON = {"runs": [run_json(r) for r in runs]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


@api.get("/metrics/get-history", summary="MLflow: every point of one metric")
def get_metric_history(
    svc: Tracking,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    run_uuid: Annotated[str | None, Query(max_length=64)] = None,
    metric_key: Annotated[str | None, Query(max_length=250)] = None,
) -> JSON:
    rid = _run_id(RunIdBody(run_id=run_id, run_uuid=run_uuid))
    points = svc.get_metric_history(rid, _required(metric_key, "metric_key"))
    return {"metrics": [{**metric_json(m), "run_id": rid} for m in points]}


# -- assembly ----------------------------------------------------------------------------

api.include_router(logged_models_api)
api.include_router(registry_api)
router = APIRouter(route_class=MlflowRoute)
router.include_router(api, prefix="/api/2.0/mlflow", tags=["mlflow"])
router.include_router(api, prefix="/ajax-api/2.0/mlflow", include_in_schema=False)
router.include_router(artifacts_router)


@router.api_route(
    "/api/2.0/{service:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def endpoint_not_found(service: str) -> JSONResponse:
    """MLflow clients probe endpoints and fall back on ``ENDPOINT_NOT_FOUND``."""
    return mlflow_error("ENDPOINT_NOT_FOUND", f"endpoint /api/2.0/{service[:200]} is not served by Steward", 404)
