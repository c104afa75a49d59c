"""Data-stage REST routes: dataset versions, their diff and lineage."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from steward.data import DataService
from steward.data._uploads import register_upload
from steward.errors import InvalidInputError, StewardError

from ._deps import Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["data"])
JSON = dict[str, Any]  # Any: JSON values

_FORMATS = {"parquet": ".parquet", "csv": ".csv"}
_CONTENT_TYPES = {
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "text/csv": "csv",
}


def data_service(request: Request) -> DataService:
    return services(request).data(current_actor(request))


Data = Annotated[DataService, Depends(data_service)]


def _format_of(request: Request, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in _FORMATS:
            raise InvalidInputError("format must be parquet or csv", field="format")
        return fmt
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[content_type]
    raise InvalidInputError(
        "say what the body holds: Content-Type application/vnd.apache.parquet or text/csv, or ?format=",
        field="format",
    )


@router.post("/datasets/{name}/versions", status_code=201, summary="Register a dataset version from a Parquet or CSV body")
async def register_version(
    name: str,
    request: Request,
    svc: Data,
    format: Annotated[str | None, Query(description="parquet or csv (default: from Content-Type)")] = None,
    description: Annotated[str | None, Query(max_length=10_000)] = None,
    project: Annotated[str | None, Query(min_length=1, max_length=250, description="The project of a new dataset (default: its name).")] = None,
    upload_id: Annotated[str | None, Query(max_length=64, description="Register a finished resumable upload (POST /uploads) instead of the body.")] = None,
) -> JSON:
    if upload_id is not None:
        if request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers:
            raise InvalidInputError("send either a body or upload_id, not both", field="upload_id")
        uploads = services(request).uploads(current_actor(request))
        registered = await run_in_threadpool(register_upload, uploads, svc, upload_id, name, description=description, project=project)
        return registered.to_dict()
    fmt = _format_of(request, format)
    with tempfile.TemporaryDirectory(prefix="steward-upload-") as tmp:
        # not named after the dataset: the name is checked by the service, after the upload
        path = os.path.join(tmp, f"upload{_FORMATS[fmt]}")
        size = 0
        # streamed to disk: the body never sits in memory whole
        with open(path, "wb") as out:  # noqa: ASYNC230 - local disk writes of body chunks
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInputError("the request body is empty", field="body")
        try:
            # hashing and profiling are CPU work: keep them off the event loop
            version = await run_in_threadpool(svc.register, name, path, description=description, project=project)
        except StewardError as exc:
            # the staging path means nothing to the client; name the body instead
            exc.message = exc.message.replace(repr(path), "the request body").replace(path, "the request body")
            raise
    body = version.to_dict()
    body["source"] = "upload" if body["source"] == path else body["source"]
    return body


@router.get("/datasets", summary="List datasets")
def list_datasets(svc: Data, readable: Readable) -> JSON:
    return {
        "datasets": [
            {
                "name": s.name,
                "latest_version": s.latest_version,
                "num_versions": s.num_versions,
                "description": s.description,
                "created_at": s.created_at,
                "created_by": s.created_by,
                "project": s.project,
            }
            for s in svc.list_datasets(readable)
        ]
    }


@router.get("/datasets/{name}/versions", summary="List the versions of a dataset (without profiles)")
def list_versions(name: str, svc: Data) -> JSON:
    out = []
    for v in svc.list(name):
        d = v.to_dict()
        d.pop("profile")
        out.append(d)
    return {"versions": out}


@router.get("/datasets/{name}/versions/{version}", summary="Get one version with its schema and profile")
def get_version(name: str, version: str, svc: Data) -> JSON:
    return svc.get(_ref(name, version)).to_dict()


@router.get("/datasets/{name}/versions/{version}/lineage", summary="Runs that used a version")
def get_lineage(name: str, version: str, svc: Data, readable: Readable) -> JSON:
    return svc.lineage(_ref(name, version), projects=readable).to_dict()


@router.get("/datasets/{name}/diff", summary="Compare two versions of a dataset")
def diff_versions(
    name: str,
    svc: Data,
    a: Annotated[str, Query(description="version number (or latest)", max_length=80)],
    b: Annotated[str, Query(description="version number (or latest)", max_length=80)],
) -> JSON:
    return svc.diff(_ref(name, a, field="a"), _ref(name, b, field="b")).to_dict()


def _ref(name: str, version: str, *, field: str = "version") -> str:
    if version == "latest":
        return name
    if not version.isdigit() or int(version) < 1:
        raise InvalidInputError(f"{field} must be a positive version number or 'latest'", field=field)
    return f"{name}:{int(version)}"
