"""Registry API under /api/v1/models: parse, call one registry function, serialise."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from steward.registry import RegistryService, model_to_dict, version_to_dict

from ._deps import Project, Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["registry"])
JSON = dict[str, Any]  # Any: JSON values
Name = Annotated[str, Field(min_length=1, max_length=64)]


def registry_service(request: Request) -> RegistryService:
    return services(request).registry(current_actor(request))


Registry = Annotated[RegistryService, Depends(registry_service)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(_Body):
    name: Name
    description: Annotated[str, Field(max_length=20_000)] = ""
    tags: dict[str, StrictStr] = Field(default_factory=dict)
    project: Project | None = None


class ModelUpdate(_Body):
    description: Annotated[str, Field(max_length=20_000)]


class VersionCreate(_Body):
    run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    artifact_path: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    description: Annotated[str, Field(max_length=20_000)] = ""
    project: Annotated[Project | None, Field(description="The model's project, when this version creates the model.")] = None


class AliasSet(_Body):
    version: Annotated[int, Field(ge=1)]


class Transition(_Body):
    state: Annotated[str, Field(min_length=1, max_length=20)]
    comment: Annotated[str, Field(max_length=20_000)] = ""


class ApprovalCreate(_Body):
    comment: Annotated[str, Field(min_length=1, max_length=20_000)]


class TagSet(_Body):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: StrictStr


MaxResults = Annotated[int, Query(ge=1, le=10_000)]


@router.post("/models", status_code=201, summary="Register a model name")
def create_model(body: ModelCreate, svc: Registry) -> JSON:
    return model_to_dict(svc.create_model(body.name, description=body.description, tags=body.tags, project=body.project))


@router.get("/models", summary="List registered models")
def list_models(
    svc: Registry,
    readable: Readable,
    name_prefix: Annotated[str | None, Query(max_length=64)] = None,
    max_results: MaxResults = 100,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> JSON:
    page = svc.list_models(name_prefix=name_prefix, max_results=max_results, page_token=page_token, projects=readable)
    return {"models": [model_to_dict(m) for m in page.models], "next_page_token": page.next_page_token}


@router.get("/model-versions", summary="Search versions across models")
def search_versions(
    svc: Registry,
    readable: Readable,
    name: Annotated[str | None, Query(max_length=64)] = None,
    name_prefix: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    run_id: Annotated[str | None, Query(max_length=32)] = None,
    max_results: MaxResults = 100,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> JSON:
    page = svc.search_versions(
        name=name, name_prefix=name_prefix, state=state, run_id=run_id, max_results=max_results, page_token=page_token,
        projects=readable,
    )
    return {"versions": [version_to_dict(v) for v in page.versions], "next_page_token": page.next_page_token}


@router.get("/models/{name}", summary="Get a registered model")
def get_model(name: str, svc: Registry) -> JSON:
    return model_to_dict(svc.get_model(name))


@router.patch("/models/{name}", summary="Update a model's description")
def update_model(name: str, body: ModelUpdate, svc: Registry) -> JSON:
    return model_to_dict(svc.update_model(name, description=body.description))


@router.put("/models/{name}/tags", summary="Set a model tag")
def set_model_tag(name: str, body: TagSet, svc: Registry) -> JSON:
    svc.set_model_tag(name, body.key, body.value)
    return model_to_dict(svc.get_model(name))


@router.delete("/models/{name}/tags/{key}", summary="Delete a model tag")
def delete_model_tag(name: str, key: str, svc: Registry) -> JSON:
    svc.delete_model_tag(name, key)
    return model_to_dict(svc.get_model(name))


@router.post("/models/{name}/versions", status_code=201, summary="Register a run's model as the next version")
def create_version(name: str, body: VersionCreate, svc: Registry) -> JSON:
    return version_to_dict(
        svc.create_version(name, body.run_id, artifact_path=body.artifact_path, description=body.description, project=body.project)
    )


@router.get("/models/{name}/versions", summary="List versions of a model, newest first")
def list_versions(
    name: str,
    svc: Registry,
    state: Annotated[str | None, Query(max_length=20)] = None,
    max_results: MaxResults = 100,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> JSON:
    page = svc.list_versions(name, state=state, max_results=max_results, page_token=page_token)
    return {"versions": [version_to_dict(v) for v in page.versions], "next_page_token": page.next_page_token}


@router.get("/models/{name}/resolve", summary="Resolve a reference (fraud@champion, fraud/production, ...)")
def resolve(
    name: str,
    svc: Registry,
    ref: Annotated[str, Query(min_length=1, max_length=200)],
    allow_retired: bool = False,
    purpose: Annotated[
        str, Query(pattern="^(read|load|package)$", description="read: just look it up (retired or not, not audited).")
    ] = "load",
) -> JSON:
    if purpose == "read":
        return version_to_dict(svc.resolve(ref))
    found = svc.resolve_for_use(ref, allow_retired=allow_retired, purpose=purpose)
    return version_to_dict(found)


@router.get("/models/{name}/versions/{version}", summary="Get a version")
def get_version(name: str, version: int, svc: Registry) -> JSON:
    return version_to_dict(svc.get_version(name, version))


@router.get("/models/{name}/versions/{version}/files", summary="The files pinned when the version was registered")
def list_version_files(name: str, version: int, svc: Registry) -> JSON:
    files = svc.list_version_files(name, version)
    return {"files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in files]}


@router.get(
    "/models/{name}/versions/{version}/files/{path:path}",
    summary="Download one pinned file of a version (verified against its recorded digest)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_version_file(name: str, version: int, path: str, svc: Registry) -> Response:
    file, data = svc.get_version_file(name, version, path)
    return Response(data, media_type="application/octet-stream", headers={"X-Content-SHA256": file.digest})


@router.put("/models/{name}/aliases/{alias}", summary="Point an alias at a version (atomic move)")
def set_alias(name: str, alias: str, body: AliasSet, svc: Registry) -> JSON:
    return version_to_dict(svc.set_alias(name, alias, body.version))


@router.delete("/models/{name}/aliases/{alias}", status_code=204, summary="Remove an alias")
def delete_alias(name: str, alias: str, svc: Registry) -> None:
    svc.delete_alias(name, alias)


@router.post("/models/{name}/versions/{version}/transitions", summary="Move a version to another lifecycle state")
def transition(name: str, version: int, body: Transition, svc: Registry) -> JSON:
    return version_to_dict(svc.transition(name, version, body.state, comment=body.comment))


@router.post("/models/{name}/versions/{version}/approvals", status_code=201, summary="Approve a version")
def approve(name: str, version: int, body: ApprovalCreate, svc: Registry) -> JSON:
    return version_to_dict(svc.approve(name, version, comment=body.comment))


@router.put("/models/{name}/versions/{version}/tags", summary="Set a version tag")
def set_version_tag(name: str, version: int, body: TagSet, svc: Registry) -> JSON:
    svc.set_version_tag(name, version, body.key, body.value)
    return version_to_dict(svc.get_version(name, version))


@router.delete("/models/{name}/versions/{version}/tags/{key}", summary="Delete a version tag")
def delete_version_tag(name: str, version: int, key: str, svc: Registry) -> JSON:
    svc.delete_version_tag(name, version, key)
    return version_to_dict(svc.get_version(name, version))
