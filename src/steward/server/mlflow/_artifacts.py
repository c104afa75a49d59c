"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts``) on a run's artifacts.

Runs served through the MLflow API carry ``artifact_uri =
mlflow-artifacts:/<experiment_id>/<run_id>/artifacts``, so the ``mlflow`` client uploads,
lists and downloads through these routes; paths map onto the run's logical artifact
paths in Steward's content-addressed store. MLflow 3's logged models carry
``mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts`` and their files land
in the same store. Paths outside a run's or a model's ``artifacts`` folder do not exist.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from steward.core.logged_models import check_model_id
from steward.errors import InvalidInputError, NotFoundError
from steward.tracking import (
    ArtifactInfo,
    LoggedModelService,
    TrackingService,
    check_run_id,
    clean_artifact_path,
)

from .._deps import logged_model_service, tracking_service
from ._errors import MlflowRoute

Tracking = Annotated[TrackingService, Depends(tracking_service)]
Models = Annotated[LoggedModelService, Depends(logged_model_service)]
JSON = dict[str, Any]  # Any: JSON values
_CHUNK = 1 << 20

router = APIRouter(prefix="/api/2.0/mlflow-artifacts", tags=["mlflow"], route_class=MlflowRoute)


@dataclass(frozen=True, slots=True)
class _Location:
    experiment_id: str
    run_id: str  # "" for a logged model's files
    path: str  # inside the run's (or model's) artifacts; "" for the root
    model_id: str = ""


class _Files:
    """The artifacts of one run or one logged model, whichever a path names."""

    def __init__(self, tracking: TrackingService, models: LoggedModelService) -> None:
        self.tracking = tracking
        self.models = models

    def locate(self, raw: str) -> _Location:
        parts = raw.strip("/").split("/", 4)
        if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts" and parts[0].isdigit():
            return self._locate_model(parts)
        return _locate(self.tracking, raw)

    def _locate_model(self, parts: list[str]) -> _Location:
        try:
            model_id = check_model_id(parts[2])
        except InvalidInputError:
            raise NotFoundError(f"logged model {parts[2][:40]!r} not found", field="path") from None
        model = self.models.get(model_id)
        if model.experiment_id != parts[0]:
            raise NotFoundError(f"logged model {model_id} is not in experiment {parts[0]}", field="path")
        inner = clean_artifact_path(parts[4]) if len(parts) == 5 and parts[4].strip("/") else ""
        return _Location(parts[0], "", inner, model_id)

    def store(self, where: _Location, local_path: str) -> None:
        if where.model_id:
            self.models.log_artifact_file(where.model_id, local_path, where.path)
        else:
            self.tracking.log_artifact_file(where.run_id, local_path, where.path)

    def list(self, where: _Location) -> list[ArtifactInfo]:
        if where.model_id:
            return self.models.list_artifacts(where.model_id, where.path)
        return self.tracking.list_artifacts(where.run_id, where.path)

    def open(self, where: _Location) -> tuple[ArtifactInfo, Any]:  # Any: a binary stream
        if where.model_id:
            return self.models.open_artifact(where.model_id, where.path)
        return self.tracking.open_artifact(where.run_id, where.path)


def _locate(svc: TrackingService, raw: str) -> _Location:
    """Split ``<experiment_id>/<run_id>/artifacts[/<path>]`` and check the run is in that experiment."""
    parts = raw.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != "artifacts" or not parts[0].isdigit():
        raise NotFoundError(
            "artifact paths look like <experiment_id>/<run_id>/artifacts/<path> "
            "or <experiment_id>/models/<model_id>/artifacts/<path>",
            field="path",
        )
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
async def upload_artifact(path: str, request: Request, svc: Tracking, models: Models) -> JSON:
    files = _Files(svc, models)
    where = await run_in_threadpool(files.locate, path)
    if not where.path:
        raise InvalidInputError("an artifact upload needs a file path", field="path")
    # Spool to disk so large files never sit in memory whole.
    fd, tmp = tempfile.mkstemp(prefix="steward-upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        await run_in_threadpool(files.store, where, tmp)
    finally:
        os.unlink(tmp)
    return {}


@router.get("/artifacts", summary="MLflow: list the artifacts directly under a path")
def list_artifacts(svc: Tracking, models: Models, path: Annotated[str, Query(max_length=2000)] = "") -> JSON:
    store = _Files(svc, models)
    where = store.locate(path)
    base = where.path + "/" if where.path else ""
    children: dict[str, int | None] = {}
    for info in store.list(where):
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
def download_artifact(path: str, svc: Tracking, models: Models) -> Response:
    files = _Files(svc, models)
    where = files.locate(path)
    if not where.path:
        raise NotFoundError("name a file inside the run's artifacts", field="path")
    info, stream = files.open(where)

    def chunks() -> Any:  # Any: a generator of bytes for starlette
        with stream:
            while block := stream.read(_CHUNK):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"content-length": str(info.size)},
    )
