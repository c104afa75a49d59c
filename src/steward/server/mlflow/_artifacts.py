"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts``) on a run's artifacts.

Runs served through the MLflow API carry ``artifact_uri =
mlflow-artifacts:/<experiment_id>/<run_id>/artifacts``, so the ``mlflow`` client uploads,
lists and downloads through these routes; paths map onto the run's logical artifact
paths in Steward's content-addressed store. Paths outside a run's ``artifacts`` folder
do not exist here.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from steward.errors import InvalidInputError, NotFoundError
from steward.tracking import TrackingService, check_run_id, clean_artifact_path

from .._deps import tracking_service
from ._errors import MlflowRoute

Tracking = Annotated[TrackingService, Depends(tracking_service)]
JSON = dict[str, Any]  # Any: JSON values
_CHUNK = 1 << 20

router = APIRouter(prefix="/api/2.0/mlflow-artifacts", tags=["mlflow"], route_class=MlflowRoute)


@dataclass(frozen=True, slots=True)
class _Location:
    experiment_id: str
    run_id: str
    path: str  # inside the run's artifacts; "" for the root


def _locate(svc: TrackingService, raw: str) -> _Location:
    """Split ``<experiment_id>/<run_id>/artifacts[/<path>]`` and check the run is in that experiment."""
    parts = raw.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != "artifacts" or not parts[0].isdigit():
        raise NotFoundError("artifact paths look like <experiment_id>/<run_id>/artifacts/<path>", field="path")
    try:
        run_id = check_run_id(parts[1])
    except InvalidInputError:
        raise NotFoundError(f"run {parts[1][:40]!r} not found", field="path") from None
    run = svc.get_run(run_id)
    if run.experiment_id != parts[0]:
        raise NotFoundError(f"run {run_id} is not in experiment {parts[0]}", field="path")
    inner = clean_artifact_path(parts[3]) if len(parts) == 4 and parts[3].strip("/") else ""
    return _Location(parts[0], run_id, inner)


@router.put("/artifacts/{path:path}", summary="MLflow: upload an artifact file")
async def upload_artifact(path: str, request: Request, svc: Tracking) -> JSON:
    where = await run_in_threadpool(_locate, svc, path)
    if not where.path:
        raise InvalidInputError("an artifact upload needs a file path", field="path")
    # Spool to disk so large files never sit in memory whole.
    fd, tmp = tempfile.mkstemp(prefix="steward-upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        await run_in_threadpool(svc.log_artifact_file, where.run_id, tmp, where.path)
    finally:
        os.unlink(tmp)
    return {}


@router.get("/artifacts", summary="MLflow: list the artifacts directly under a path")
def list_artifacts(svc: Tracking, path: Annotated[str, Query(max_length=2000)] = "") -> JSON:
    where = _locate(svc, path)
    base = where.path + "/" if where.path else ""
    children: dict[str, int | None] = {}
    for info in svc.list_artifacts(where.run_id, where.path):
        head, sep, _rest = info.path[len(base) :].partition("/")
        children[head] = None if sep else info.size
    files: list[JSON] = []
    for name, size in sorted(children.items()):
        files.append({"path": name, "is_dir": True} if size is None else {"path": name, "is_dir": False, "file_size": size})
    return {"files": files}


@router.get(
    "/artifacts/{path:path}",
    summary="MLflow: download an artifact file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_artifact(path: str, svc: Tracking) -> Response:
    where = _locate(svc, path)
    if not where.path:
        raise NotFoundError("name a file inside the run's artifacts", field="path")
    info, stream = svc.open_artifact(where.run_id, where.path)

    def chunks() -> Any:  # Any: a generator of bytes for starlette
        with stream:
            while block := stream.read(_CHUNK):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"content-length": str(info.size)},
    )
