"""Moving bytes: resumable uploads (datasets, MLflow exports to import), any-reference
dataset lookups and diffs, data downloads.

A large file reaches the server in chunks (``POST /uploads``, ``PUT /uploads/{id}`` with
``Content-Range``) and becomes a version with ``POST /datasets/{name}/versions?upload_id=``
(in ``_routes_data``). The CLI and SDK against a server use these routes so that every
``steward data`` command works as it does embedded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from steward.data import DataService
from steward.data._uploads import UploadService
from steward.errors import NotFoundError
from steward.migrate._uploaded import import_uploaded_dump

from ._deps import Project, current_actor, services
from ._routes_data import Data, _ref

router = APIRouter(prefix="/api/v1", tags=["data"])
JSON = dict[str, Any]  # Any: JSON values
_BLOCK = 1 << 20


def upload_service(request: Request) -> UploadService:
    return services(request).uploads(current_actor(request))


Uploads = Annotated[UploadService, Depends(upload_service)]


class UploadCreate(BaseModel):
    """Open an upload session for a file that will become a version of ``dataset``."""

    dataset: str = Field(..., min_length=1, max_length=200, description="The dataset it will be a version of.")
    size: int = Field(..., ge=1, description="The file's size in bytes.")
    sha256: str = Field(..., min_length=64, max_length=64, description="The file's sha256 (lowercase hex), checked at the end.")
    filename: str = Field(..., min_length=1, max_length=1000, description="How the client names the file (recorded as the source).")
    format: str = Field(..., description="parquet or csv")
    project: Project | None = None


@router.post("/uploads", status_code=201, summary="Open a resumable upload (or find the caller's open one for the same file)")
def create_upload(body: UploadCreate, svc: Uploads) -> JSON:
    upload = svc.open(body.dataset, size=body.size, sha256=body.sha256, filename=body.filename, format=body.format, project=body.project)
    return upload.to_dict(chunk_size=svc.chunk_size)


class ImportCreate(BaseModel):
    """Open an upload of an MLflow export (a tar of the folder ``steward import mlflow`` writes)."""

    size: int = Field(..., ge=1, description="The tar's size in bytes.")
    sha256: str = Field(..., min_length=64, max_length=64, description="The tar's sha256 (lowercase hex), checked at the end.")
    filename: str = Field(..., min_length=1, max_length=1000, description="How the client names it.")


@router.post("/imports", status_code=201, summary="Open a resumable upload of an MLflow export to import (administrators)")
def create_import(body: ImportCreate, svc: Uploads) -> JSON:
    return svc.open_import(size=body.size, sha256=body.sha256, filename=body.filename).to_dict(chunk_size=svc.chunk_size)


@router.post("/imports/{upload_id}", summary="Import a finished export upload (idempotent: what exists is skipped); its summary")
def run_import(upload_id: str, request: Request, svc: Uploads) -> JSON:
    built, actor = services(request), current_actor(request)
    return import_uploaded_dump(svc, built.tracking(actor), built.registry(actor), upload_id).to_dict()


@router.get("/uploads/{upload_id}", summary="An upload's state: how many bytes arrived")
def get_upload(upload_id: str, svc: Uploads) -> JSON:
    return svc.get(upload_id).to_dict(chunk_size=svc.chunk_size)


@router.put("/uploads/{upload_id}", summary="Append one chunk (Content-Range: bytes START-END/TOTAL, START = bytes received)")
async def put_chunk(upload_id: str, request: Request, svc: Uploads) -> JSON:
    # bounded by the body limit (the chunk size the server announced is below it)
    data = await request.body()
    upload = await run_in_threadpool(svc.append, upload_id, request.headers.get("content-range"), data)
    return upload.to_dict(chunk_size=svc.chunk_size)


@router.delete("/uploads/{upload_id}", status_code=204, summary="Abort an upload and drop its chunks")
def delete_upload(upload_id: str, svc: Uploads) -> Response:
    svc.abort(upload_id)
    return Response(status_code=204)


@router.get("/dataset-versions", summary="Resolve any dataset reference (name, name:3, name@hash, a hash prefix) to its version")
def resolve_version(svc: Data, ref: Annotated[str, Query(min_length=1, max_length=1000)]) -> JSON:
    return svc.get(ref).to_dict()


@router.get("/dataset-diff", summary="Compare two dataset versions, of the same dataset or not")
def diff_any(
    svc: Data,
    a: Annotated[str, Query(min_length=1, max_length=1000, description="the older version (any reference form)")],
    b: Annotated[str, Query(min_length=1, max_length=1000, description="the newer version (any reference form)")],
) -> JSON:
    return svc.diff(a, b).to_dict()


@router.get(
    "/datasets/{name}/versions/{version}/data",
    summary="The data of a version as Parquet (stored versions: the stored file; header X-Steward-Sha256 is its sha256)",
)
def download_version(name: str, version: str, svc: Data) -> Response:
    found = svc.get(_ref(name, version))
    headers = {"Content-Disposition": f'attachment; filename="{found.name}-{found.version}.parquet"'}
    if found.storage == "stored" and found.artifact_digest is not None:
        handle = _open_blob(svc, found.artifact_digest, found.ref)
        headers["X-Steward-Sha256"] = found.artifact_digest
        headers["Content-Length"] = str(found.size_bytes)
        return StreamingResponse(_blocks(handle), media_type="application/vnd.apache.parquet", headers=headers)
    # a referenced version: read where it lies (hash checked), sent as Parquet
    buffer = io.BytesIO()
    svc.load(found).write_parquet(buffer)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet", headers=headers)


def _open_blob(svc: DataService, digest: str, ref: str) -> Any:  # Any: a binary file object
    try:
        return svc.blobs.open(digest)
    except NotFoundError:
        raise NotFoundError(f"the stored data of {ref} is missing from the artifact store", field="version") from None


def _blocks(handle: Any) -> Iterator[bytes]:  # Any: a binary file object
    # a sync iterator: Starlette runs it in a thread, one block in memory at a time
    with handle:
        while block := handle.read(_BLOCK):
            yield block

