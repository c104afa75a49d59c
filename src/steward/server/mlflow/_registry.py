"""MLflow's model-registry REST API (``/registered-models/*``, ``/model-versions/*``) on
Steward's own registry.

``mlflow.register_model``, ``MlflowClient``'s registry calls and
``mlflow.pyfunc.load_model("models:/name@alias")`` work against a Steward server: a
version registered here is a Steward version (its files pinned and hashed, its lifecycle
Steward's), and Steward's own loaders read MLflow-format folders through their
python_function flavor. Where the two differ, Steward's rules win with an MLflow error:

- stages are shown and moved along Steward's lifecycle (:mod:`steward.registry._mlflow_stages`);
  production still needs an approval and a passed gate where those are required;
- only versions that were never approved can be deleted (the rest stay on record), and a
  deleted model's version numbers are never reused;
- names and aliases follow Steward's rules (case kept; no spaces or slashes);
- renaming a registered model is not served (names key gates, evaluations and the audit
  trail); the client gets ``ENDPOINT_NOT_FOUND``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from steward.core.permissions import PROJECT_TAG
from steward.errors import InvalidInputError, NotFoundError
from steward.registry import (
    MLFLOW_STAGES,
    ModelVersion,
    RegisteredModel,
    RegistryService,
    VersionFile,
    mlflow_stage,
    parse_source,
    parse_stage,
    states_of_stage,
)
from steward.tracking import LoggedModelService, TrackingService

from .._deps import Readable, logged_model_service, tracking_service
from .._routes_registry import registry_service
from ._codec import logged_model_artifact_uri
from ._errors import MlflowRoute
from ._registry_search import Record, apply_order, matches, page_of, parse_registry_filter
from ._schemas import KeyValue, Scalar, _Body, as_dict

Registry = Annotated[RegistryService, Depends(registry_service)]
Tracking = Annotated[TrackingService, Depends(tracking_service)]
LoggedModels = Annotated[LoggedModelService, Depends(logged_model_service)]
JSON = dict[str, Any]  # Any: JSON values
Text = Annotated[str | None, Query(max_length=250)]

router = APIRouter(route_class=MlflowRoute)

_MODEL_KEYS = frozenset({"name", "creation_timestamp", "last_updated_timestamp", "user_id", "description"})
_VERSION_KEYS = frozenset(
    {"name", "version_number", "run_id", "source_path", "creation_timestamp", "last_updated_timestamp", "user_id", "current_stage"}
)
_ALL = 10_000  # Steward's largest page: enough to read every model or version of a registry


# -- request bodies (protobuf JSON mapping; unknown fields ignored) -------------------------


class NameBody(_Body):
    name: str | None = None


class CreateModelBody(NameBody):
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class UpdateModelBody(NameBody):
    description: str | None = None


class TagBody(NameBody):
    key: str | None = None
    value: Scalar | None = ""


class AliasBody(NameBody):
    alias: str | None = None
    version: str | int | None = None


class VersionBody(NameBody):
    version: str | int | None = None


class CreateVersionBody(NameBody):
    source: str | None = None
    run_id: str | None = None
    description: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class UpdateVersionBody(VersionBody):
    description: str | None = None


class VersionTagBody(VersionBody):
    key: str | None = None
    value: Scalar | None = ""


class TransitionBody(VersionBody):
    stage: str | None = None
    archive_existing_versions: bool | None = False


class LatestVersionsBody(NameBody):
    stages: list[str] = Field(default_factory=list)


# -- shapes --------------------------------------------------------------------------------


def _required(value: object, field: str) -> str:
    if value is None or value == "":
        raise InvalidInputError(f"Missing value for required parameter '{field}'", field=field)
    return str(value)


def _number(value: object) -> int:
    text = _required(value, "version")
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise InvalidInputError(f"version must be a positive integer, got {text[:20]!r}", field="version")
    return int(text)


def version_json(v: ModelVersion) -> JSON:
    """A Steward version in MLflow's ``ModelVersion`` shape."""
    out: JSON = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at,
        "user_id": v.created_by,
        "current_stage": mlflow_stage(v.state),
        "description": v.description,
        "source": _source(v),
        "run_id": v.run_id,
        "status": "READY",
        "tags": [{"key": k, "value": val} for k, val in sorted(v.tags.items())],
        "aliases": list(v.aliases),
    }
    if v.logged_model_id:
        out["model_id"] = v.logged_model_id
    return out


def _source(v: ModelVersion) -> str:
    return f"models:/{v.logged_model_id}" if v.logged_model_id else f"runs:/{v.run_id}/{v.artifact_path}"


def _latest_per_stage(svc: RegistryService, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
    """The newest version shown in each MLflow stage (all four when ``stages`` is empty)."""
    found: list[ModelVersion] = []
    for stage in stages or list(MLFLOW_STAGES):
        newest: ModelVersion | None = None
        for state in states_of_stage(stage):
            try:
                candidate = svc.resolve(f"{name}/{state.value}")
            except NotFoundError:
                continue
            if newest is None or candidate.version > newest.version:
                newest = candidate
        if newest is not None:
            found.append(newest)
    return sorted(found, key=lambda v: v.version)


def model_json(svc: RegistryService, m: RegisteredModel) -> JSON:
    """A Steward registered model in MLflow's ``RegisteredModel`` shape."""
    out: JSON = {
        "name": m.name,
        "creation_timestamp": m.created_at,
        "last_updated_timestamp": m.updated_at,
        "user_id": m.owner,
        "description": m.description,
        "tags": [{"key": k, "value": v} for k, v in sorted(m.tags.items())],
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
    }
    latest = _latest_per_stage(svc, m.name)
    if latest:
        out["latest_versions"] = [version_json(v) for v in latest]
    return out


# -- registered models ------------------------------------------------------------------


@router.post("/registered-models/create", summary="MLflow: register a model name")
def create_registered_model(body: CreateModelBody, svc: Registry) -> JSON:
    tags = as_dict(body.tags)
    model = svc.create_model(
        _required(body.name, "name"), description=body.description or "", tags=tags, project=tags.get(PROJECT_TAG)
    )
    return {"registered_model": model_json(svc, model)}


@router.get("/registered-models/get", summary="MLflow: get a registered model")
def get_registered_model(svc: Registry, name: Text = None) -> JSON:
    return {"registered_model": model_json(svc, svc.get_model(_required(name, "name")))}


def _all_models(svc: RegistryService, readable: frozenset[str] | None) -> list[RegisteredModel]:
    models: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = svc.list_models(max_results=_ALL, page_token=token, projects=readable)
        models += page.models
        token = page.next_page_token
        if not token:
            return models


@router.get("/registered-models/search", summary="MLflow: search registered models")
def search_registered_models(
    svc: Registry,
    readable: Readable,
    filter: Annotated[str | None, Query(max_length=10_000)] = None,
    max_results: int | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query(max_length=64)] = None,
) -> JSON:
    conditions = parse_registry_filter(filter, _MODEL_KEYS)
    records: list[Record] = []
    by_name: dict[str, RegisteredModel] = {}
    for m in _all_models(svc, readable):
        record = {
            "name": m.name, "creation_timestamp": m.created_at, "last_updated_timestamp": m.updated_at,
            "user_id": m.owner, "description": m.description, "tags": m.tags,
        }
        if matches(conditions, record):
            records.append(record)
            by_name[m.name] = m
    ordered = apply_order(records, order_by or [], _MODEL_KEYS, ["name ASC"])
    page, token = page_of(ordered, max_results, page_token, default=100, limit=1000)
    out: JSON = {"registered_models": [model_json(svc, by_name[r["name"]]) for r in page]}
    if token:
        out["next_page_token"] = token
    return out


@router.patch("/registered-models/update", summary="MLflow: change a registered model's description")
def update_registered_model(body: UpdateModelBody, svc: Registry) -> JSON:
    model = svc.update_model(_required(body.name, "name"), description=body.description or "")
    return {"registered_model": model_json(svc, model)}


@router.delete("/registered-models/delete", summary="MLflow: delete a registered model (candidates only)")
def delete_registered_model(body: NameBody, svc: Registry) -> JSON:
    svc.delete_model(_required(body.name, "name"))
    return {}


@router.post("/registered-models/set-tag", summary="MLflow: tag a registered model")
def set_registered_model_tag(body: TagBody, svc: Registry) -> JSON:
    value = "" if body.value is None else str(body.value)
    svc.set_model_tag(_required(body.name, "name"), _required(body.key, "key"), value)
    return {}


@router.delete("/registered-models/delete-tag", summary="MLflow: delete a registered model tag")
def delete_registered_model_tag(body: TagBody, svc: Registry) -> JSON:
    svc.delete_model_tag(_required(body.name, "name"), _required(body.key, "key"))
    return {}


@router.post("/registered-models/alias", summary="MLflow: point an alias at a version")
def set_registered_model_alias(body: AliasBody, svc: Registry) -> JSON:
    svc.set_alias(_required(body.name, "name"), _required(body.alias, "alias"), _number(body.version))
    return {}


@router.delete("/registered-models/alias", summary="MLflow: remove an alias")
def delete_registered_model_alias(body: AliasBody, svc: Registry) -> JSON:
    svc.delete_alias(_required(body.name, "name"), _required(body.alias, "alias"))
    return {}


@router.get("/registered-models/alias", summary="MLflow: the version an alias points at")
def get_model_version_by_alias(svc: Registry, name: Text = None, alias: Text = None) -> JSON:
    found = svc.resolve(f"{_required(name, 'name')}@{_required(alias, 'alias')}")
    return {"model_version": version_json(found)}


@router.post("/registered-models/get-latest-versions", summary="MLflow: the newest version in each stage")
def get_latest_versions(body: LatestVersionsBody, svc: Registry) -> JSON:
    name = _required(body.name, "name")
    svc.get_model(name)
    stages = [parse_stage(s, field="stages") for s in body.stages]
    return {"model_versions": [version_json(v) for v in _latest_per_stage(svc, name, stages)]}


@router.get("/registered-models/get-latest-versions", summary="MLflow: the newest version in each stage (query string)")
def get_latest_versions_get(svc: Registry, name: Text = None, stages: Annotated[list[str] | None, Query()] = None) -> JSON:
    return get_latest_versions(LatestVersionsBody(name=name, stages=stages or []), svc)


# -- model versions -----------------------------------------------------------------------


@router.post("/model-versions/create", summary="MLflow: register a run's model folder as the next version")
def create_model_version(body: CreateVersionBody, svc: Registry, tracking: Tracking, logged: LoggedModels) -> JSON:
    name = _required(body.name, "name")
    source = parse_source(_required(body.source, "source"))
    if source.logged_model_id:
        return {"model_version": version_json(_from_logged_model(body, name, source.logged_model_id, svc, logged))}
    if body.run_id and body.run_id != source.run_id:
        raise InvalidInputError(f"run_id {body.run_id[:40]!r} is not the run the source names ({source.run_id})", field="run_id")
    if source.experiment_id and tracking.get_run(source.run_id).experiment_id != source.experiment_id:
        raise NotFoundError(f"run {source.run_id} is not in experiment {source.experiment_id}", field="source")
    created = svc.create_version(
        name, source.run_id, artifact_path=source.path, description=body.description or "", create_model=False
    )
    for key, value in as_dict(body.tags).items():
        svc.set_version_tag(name, created.version, key, value)
    return {"model_version": version_json(svc.get_version(name, created.version))}


def _from_logged_model(
    body: CreateVersionBody, name: str, model_id: str, svc: RegistryService, logged: LoggedModelService
) -> ModelVersion:
    """A version pinning the files of an MLflow 3 logged model (``log_model(...,
    registered_model_name=...)`` registers ``models:/m-...``); its run is the model's source run."""
    model = logged.get(model_id)
    if not model.source_run_id:
        raise InvalidInputError(
            f"logged model {model_id} was logged outside a run; Steward registers models logged in a run",
            field="source",
        )
    if body.run_id and body.run_id != model.source_run_id:
        raise InvalidInputError(f"run_id {body.run_id[:40]!r} is not the run logged model {model_id} came from", field="run_id")
    files = [VersionFile(i.path, i.digest, i.size) for i in logged.list_artifacts(model_id)]
    created = svc.create_version_from_files(
        name, model.source_run_id, files, logged_model_id=model_id, description=body.description or ""
    )
    for key, value in as_dict(body.tags).items():
        svc.set_version_tag(name, created.version, key, value)
    return svc.get_version(name, created.version)


@router.get("/model-versions/get", summary="MLflow: get a model version")
def get_model_version(svc: Registry, name: Text = None, version: Annotated[str | None, Query(max_length=20)] = None) -> JSON:
    return {"model_version": version_json(svc.get_version(_required(name, "name"), _number(version)))}


@router.get("/model-versions/search", summary="MLflow: search model versions")
def search_model_versions(
    svc: Registry,
    readable: Readable,
    filter: Annotated[str | None, Query(max_length=10_000)] = None,
    max_results: int | None = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query(max_length=64)] = None,
) -> JSON:
    conditions = parse_registry_filter(filter, _VERSION_KEYS)
    # an exact name or run narrows the query; the rest is matched here
    exact = {c.key: c.value for c in conditions if c.op == "=" and c.key in ("name", "run_id") and isinstance(c.value, str)}
    records: list[Record] = []
    by_key: dict[tuple[str, int], ModelVersion] = {}
    token: str | None = None
    while True:
        found = svc.search_versions(
            name=exact.get("name"), run_id=exact.get("run_id"), max_results=_ALL, page_token=token, projects=readable
        )
        for v in found.versions:
            record = {
                "name": v.name, "version_number": v.version, "run_id": v.run_id,
                "source_path": _source(v), "creation_timestamp": v.created_at,
                "last_updated_timestamp": v.updated_at, "user_id": v.created_by, "current_stage": mlflow_stage(v.state),
                "tags": v.tags,
            }
            if matches(conditions, record):
                records.append(record)
                by_key[(v.name, v.version)] = v
        token = found.next_page_token
        if not token:
            break
    ordered = apply_order(records, order_by or [], _VERSION_KEYS, ["name ASC", "version_number DESC"])
    page, next_token = page_of(ordered, max_results, page_token, default=10_000, limit=_ALL)
    out: JSON = {"model_versions": [version_json(by_key[(r["name"], r["version_number"])]) for r in page]}
    if next_token:
        out["next_page_token"] = next_token
    return out


@router.patch("/model-versions/update", summary="MLflow: change a version's description")
def update_model_version(body: UpdateVersionBody, svc: Registry) -> JSON:
    updated = svc.update_version(_required(body.name, "name"), _number(body.version), description=body.description or "")
    return {"model_version": version_json(updated)}


@router.delete("/model-versions/delete", summary="MLflow: delete a version (candidates only)")
def delete_model_version(body: VersionBody, svc: Registry) -> JSON:
    svc.delete_version(_required(body.name, "name"), _number(body.version))
    return {}


@router.post("/model-versions/transition-stage", summary="MLflow: move a version to a stage (Steward's lifecycle)")
def transition_model_version_stage(body: TransitionBody, svc: Registry) -> JSON:
    moved = svc.transition_stage(
        _required(body.name, "name"), _number(body.version), _required(body.stage, "stage"),
        archive_existing=bool(body.archive_existing_versions),
    )
    return {"model_version": version_json(moved)}


@router.get("/model-versions/get-download-uri", summary="MLflow: where a version's files can be downloaded")
def get_model_version_download_uri(
    svc: Registry, tracking: Tracking, logged: LoggedModels, name: Text = None, version: Annotated[str | None, Query(max_length=20)] = None
) -> JSON:
    found = svc.get_version(_required(name, "name"), _number(version))
    if found.logged_model_id:
        return {"artifact_uri": logged_model_artifact_uri(logged.get(found.logged_model_id, allow_deleted=True))}
    run = tracking.get_run(found.run_id)
    # the run's folder through the artifact proxy, as MLflow's server answers; Steward's
    # own loaders read the files pinned at registration instead, checked against sha256
    return {"artifact_uri": f"mlflow-artifacts:/{run.experiment_id}/{run.run_id}/artifacts/{found.artifact_path}"}


@router.post("/model-versions/set-tag", summary="MLflow: tag a version")
def set_model_version_tag(body: VersionTagBody, svc: Registry) -> JSON:
    value = "" if body.value is None else str(body.value)
    svc.set_version_tag(_required(body.name, "name"), _number(body.version), _required(body.key, "key"), value)
    return {}


@router.delete("/model-versions/delete-tag", summary="MLflow: delete a version tag")
def delete_model_version_tag(body: VersionTagBody, svc: Registry) -> JSON:
    svc.delete_version_tag(_required(body.name, "name"), _number(body.version), _required(body.key, "key"))
    return {}
