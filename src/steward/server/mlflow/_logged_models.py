"""MLflow 3's logged-model API (``/logged-models``) and run outputs (``/runs/outputs``).

``mlflow.<flavor>.log_model`` creates a logged model, links it to the run
(``runs/outputs``), uploads the model's folder through the artifact proxy to the model's
``artifact_uri`` (``mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts``; the
files land in Steward's content-addressed store) and finalizes it. ``models:/<model_id>``
and ``runs:/<run_id>/<name>`` then load it back: the client finds the model by
searching the run's experiment for the name.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from steward.core.logged_models import LoggedModel, LoggedModelStatus, parse_order
from steward.errors import InvalidInputError
from steward.tracking import LoggedModelService, TrackingService

from .._deps import Readable, logged_model_service, tracking_service
from ._codec import logged_model_json
from ._errors import MlflowRoute
from ._schemas import (
    CreateLoggedModelBody,
    FinalizeLoggedModelBody,
    LoggedModelKeyValuesBody,
    LogModelBody,
    LogOutputsBody,
    SearchLoggedModelsBody,
    as_dict,
)

Models = Annotated[LoggedModelService, Depends(logged_model_service)]
Tracking = Annotated[TrackingService, Depends(tracking_service)]
JSON = dict[str, Any]  # Any: JSON values

MODEL_HISTORY_TAG = "mlflow.log-model.history"  # MLflow 2's record of a run's models, kept by runs/log-model
_MODEL_FIELDS = frozenset({"artifact_path", "flavors", "utc_time_created", "run_id"})
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
_MAX_PAGE = 10_000

api = APIRouter(route_class=MlflowRoute)

# MLflow's LoggedModelStatus, by name and by number
_STATUS_IN = {
    "LOGGED_MODEL_PENDING": LoggedModelStatus.PENDING,
    "LOGGED_MODEL_READY": LoggedModelStatus.READY,
    "LOGGED_MODEL_UPLOAD_FAILED": LoggedModelStatus.FAILED,
}
_STATUS_NUMBERS = {1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY", 3: "LOGGED_MODEL_UPLOAD_FAILED"}


def _status_in(raw: str | int | None) -> LoggedModelStatus:
    name = _STATUS_NUMBERS.get(raw, "") if isinstance(raw, int) else str(raw or "").upper()
    if name not in _STATUS_IN:
        raise InvalidInputError(f"status must be one of {', '.join(_STATUS_IN)}", field="status")
    return _STATUS_IN[name]


def _experiment_id(svc: TrackingService, raw: object) -> str:
    if raw is None or raw == "":
        raise InvalidInputError("Missing value for required parameter 'experiment_id'", field="experiment_id")
    if str(raw) == DEFAULT_EXPERIMENT_ID:
        return svc.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME).experiment_id
    return str(raw)


def _model(model: LoggedModel) -> JSON:
    return {"model": logged_model_json(model)}


@api.post("/logged-models", summary="MLflow: create a logged model")
def create_logged_model(body: CreateLoggedModelBody, models: Models, tracking: Tracking) -> JSON:
    created = models.create(
        _experiment_id(tracking, body.experiment_id),
        name=body.name or None,
        model_type=body.model_type or None,
        source_run_id=body.source_run_id or None,
        params=as_dict(body.params),
        tags=as_dict(body.tags),
    )
    return _model(created)


@api.post("/logged-models/search", summary="MLflow: search logged models")
def search_logged_models(body: SearchLoggedModelsBody, models: Models, tracking: Tracking, readable: Readable) -> JSON:
    if body.datasets:
        raise InvalidInputError("Steward does not filter logged models by dataset", field="datasets")
    order = []
    for i, item in enumerate(body.order_by):
        if not item.field_name:
            raise InvalidInputError(f"order_by[{i}].field_name is required", field="order_by")
        if item.dataset_name:
            raise InvalidInputError("Steward does not order logged models by a dataset's metrics", field="order_by")
        order.append(parse_order(item.field_name, item.ascending is not False))
    if body.max_results is not None and body.max_results < 0:
        raise InvalidInputError("max_results must be positive", field="max_results")
    page = models.search(
        [_experiment_id(tracking, e) for e in body.experiment_ids],
        filter=body.filter,
        order_by=order,
        max_results=min(body.max_results or 100, _MAX_PAGE),
        page_token=body.page_token or None,
        projects=readable,
    )
    out: JSON = {"models": [logged_model_json(m) for m in page.models]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


@api.get("/logged-models/{model_id}", summary="MLflow: get a logged model")
def get_logged_model(model_id: str, models: Models, allow_deleted: bool = False) -> JSON:
    return _model(models.get(model_id, allow_deleted=allow_deleted))


@api.patch("/logged-models/{model_id}", summary="MLflow: finalize a logged model (READY or FAILED)")
def finalize_logged_model(model_id: str, body: FinalizeLoggedModelBody, models: Models) -> JSON:
    return _model(models.finalize(model_id, _status_in(body.status)))


@api.delete("/logged-models/{model_id}", summary="MLflow: delete a logged model")
def delete_logged_model(model_id: str, models: Models) -> JSON:
    models.delete(model_id)
    return {}


@api.patch("/logged-models/{model_id}/tags", summary="MLflow: set tags of a logged model")
def set_logged_model_tags(model_id: str, body: LoggedModelKeyValuesBody, models: Models) -> JSON:
    return _model(models.set_tags(model_id, as_dict(body.tags)))


@api.delete("/logged-models/{model_id}/tags/{tag_key:path}", summary="MLflow: delete a tag of a logged model")
def delete_logged_model_tag(model_id: str, tag_key: str, models: Models) -> JSON:
    models.delete_tag(model_id, tag_key)
    return {}


@api.post("/logged-models/{model_id}/params", summary="MLflow: log params of a logged model")
def log_logged_model_params(model_id: str, body: LoggedModelKeyValuesBody, models: Models) -> JSON:
    models.log_params(model_id, as_dict(body.params))
    return {}


@api.post("/runs/outputs", summary="MLflow: record the logged models a run produced")
def log_outputs(body: LogOutputsBody, models: Models) -> JSON:
    run_id = body.run_id or ""
    if not run_id:
        raise InvalidInputError("Missing value for required parameter 'run_id'", field="run_id")
    outputs: dict[str, int] = {}
    for i, item in enumerate(body.models):
        if not item.model_id:
            raise InvalidInputError(f"models[{i}].model_id is required", field="models")
        outputs[item.model_id] = item.step or 0
    models.log_outputs(run_id, outputs)
    return {}


@api.post("/runs/log-model", summary="MLflow: record a model's metadata in the run (MLflow 2 clients, Spark)")
def log_model(body: LogModelBody, tracking: Tracking) -> JSON:
    run_id = body.run_id or ""
    if not run_id:
        raise InvalidInputError("Missing value for required parameter 'run_id'", field="run_id")
    try:
        model = json.loads(body.model_json or "")
    except ValueError:
        raise InvalidInputError("model_json is not valid JSON", field="model_json") from None
    if not isinstance(model, dict):
        raise InvalidInputError("model_json must be a JSON object", field="model_json")
    missing = sorted(_MODEL_FIELDS - set(model))
    if missing:
        raise InvalidInputError(f"model_json is missing mandatory fields: {', '.join(missing)}", field="model_json")
    # as MLflow's server: the model (without its signature and example) appended to a run tag
    entry = {k: v for k, v in model.items() if k not in ("signature", "saved_input_example_info")}
    history = tracking.get_run(run_id).tags.get(MODEL_HISTORY_TAG)
    try:
        previous = json.loads(history) if history else []
    except ValueError:
        previous = []
    value = json.dumps([*(previous if isinstance(previous, list) else []), entry])
    tracking.log_batch(run_id, tags={MODEL_HISTORY_TAG: value}, allow_ended=True)
    return {}
