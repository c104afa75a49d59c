"""Feature store API under /api/v1/features: parse, call one feature-service function, serialise.

Permissions (core/permissions.py): a feature view belongs to its project (default: its
name). Definitions and online values need ``data.read`` on the project of every view a
request names; applying a definition and materialising need ``data.write``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from steward.core.features import view_from_dict
from steward.errors import InvalidInputError
from steward.features import FeatureService, StoredView

from ._deps import Project, Readable, current_actor, services

router = APIRouter(prefix="/api/v1/features", tags=["features"])
JSON = dict[str, Any]  # Any: JSON values

_NAME = Annotated[str, Field(min_length=1, max_length=63)]
_REF = Annotated[str, Field(min_length=3, max_length=127, description="view:feature")]


def feature_service(request: Request) -> FeatureService:
    return services(request).features(current_actor(request))


Features = Annotated[FeatureService, Depends(feature_service)]


def _view_dict(stored: StoredView, now_age: dict[str, Any] | None = None) -> JSON:  # Any: JSON
    body = stored.to_dict()
    if now_age is not None:
        body["freshness_s"] = now_age.get("age_s")
    return body


class ViewApply(BaseModel):
    """One feature view's definition (the YAML form of one ``feature_views`` entry, entities inline)."""

    model_config = ConfigDict(extra="forbid")

    name: _NAME
    entities: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=20)]  # Any: {name, join_keys, description}
    features: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=1000)]  # Any: {name, dtype, description}
    source: dict[str, Any]  # Any: {parquet|dataset|sql: location, event_time, created_time}
    ttl: Annotated[str, Field(max_length=20)] | None = None
    owner: Annotated[str, Field(max_length=250)] = ""
    tags: Annotated[dict[str, Annotated[str, Field(max_length=5000)]], Field(max_length=100)] = {}
    description: Annotated[str, Field(max_length=10_000)] = ""
    project: Project | None = None
    dry_run: bool = False


@router.post("/views", summary="Apply a feature view definition (a new version when it changed)")
def apply_view(body: ViewApply, svc: Features) -> JSON:
    view = view_from_dict(body.model_dump(exclude={"project", "dry_run"}))
    return svc.apply([view], project=body.project, dry_run=body.dry_run).to_dict()


@router.get("/views", summary="List feature views with their freshness")
def list_views(svc: Features, readable: Readable) -> JSON:
    fresh = {f["view"]: f for f in svc.freshness(readable)}
    return {"views": [_view_dict(s, fresh.get(s.view.name)) for s in svc.list_views(readable)]}


@router.get("/views/{name}", summary="A feature view (latest version, or ?version=)")
def get_view(name: str, svc: Features, version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> JSON:
    return svc.get_view(name, version).to_dict()


class Materialize(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_ms: Annotated[int, Field(ge=0)] | None = None
    end_ms: Annotated[int, Field(ge=0)] | None = None
    incremental: bool = False


@router.post("/views/{name}/materialize", summary="Write a view's latest values to the online store")
async def materialize_view(name: str, body: Materialize, svc: Features) -> JSON:
    # reads the source and writes the online store: off the event loop
    done = await run_in_threadpool(
        svc.materialize, [name], start_ms=body.start_ms, end_ms=body.end_ms, incremental=body.incremental
    )
    return {"results": [r.to_dict() for r in done]}


class OnlineLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: Annotated[list[_REF], Field(min_length=1, max_length=1000)]
    entities: Annotated[
        list[dict[str, str | int | bool | None]], Field(min_length=1, max_length=10_000, description="Join-key values per row.")
    ]


@router.post("/online", summary="Online feature values for entity rows (missing ones: nulls with a flag)")
def online_post(body: OnlineLookup, svc: Features) -> JSON:
    return svc.online(body.entities, body.features).to_dict()


def _key_value(text: str) -> str | int:
    # a query string carries text: a whole number is taken as one (integer join keys are the common case)
    stripped = text.strip()
    if stripped.lstrip("-").isdigit() and len(stripped) < 19:
        return int(stripped)
    return text


@router.get("/online", summary="Online feature values for one entity: ?feature=view:feature&<join key>=<value>")
def online_get(request: Request, svc: Features, feature: Annotated[list[_REF], Query(min_length=1, max_length=1000)]) -> JSON:
    keys = {k: _key_value(v) for k, v in request.query_params.items() if k != "feature"}
    if not keys:
        raise InvalidInputError("name the entity's join keys as query parameters, e.g. ?customer_id=42", field="entities")
    return svc.online([keys], feature).to_dict()
