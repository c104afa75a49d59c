"""Steward's own tracking API under /api/v1: parse, call one service function, serialise."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from steward.core import RunInput, RunStatus
from steward.core.codec import experiment_to_dict, metric_to_dict, run_to_dict
from steward.core.limits import check_batch_size
from steward.errors import InvalidInputError
from steward.tracking import ArtifactInfo, RunCreation, RunEnding, TrackingService

from ._deps import Readable, tracking_service
from ._metrics import parse_metrics
from ._schemas import (
    ExperimentCreate,
    InlineArtifact,
    LogBatch,
    LogInputs,
    RunBatch,
    RunCreate,
    RunSearch,
    RunUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["tracking"])
Tracking = Annotated[TrackingService, Depends(tracking_service)]
JSON = dict[str, Any]  # Any: JSON values


def _artifact(a: ArtifactInfo) -> JSON:
    return {"path": a.path, "digest": a.digest, "size": a.size, "created_at": a.created_at}


@router.post("/experiments", status_code=201, summary="Create an experiment")
def create_experiment(body: ExperimentCreate, svc: Tracking) -> JSON:
    return experiment_to_dict(svc.create_experiment(body.name, body.tags, project=body.project))


@router.get("/experiments", summary="List experiments")
def list_experiments(
    svc: Tracking,
    readable: Readable,
    name: Annotated[str | None, Query(max_length=250)] = None,
    include_deleted: bool = False,
) -> JSON:
    if name is not None:
        found = svc.get_experiment_by_name(name)
        hidden = found is not None and readable is not None and found.project not in readable
        items = [] if found is None or hidden or (found.lifecycle_stage != "active" and not include_deleted) else [found]
    else:
        items = svc.list_experiments(include_deleted=include_deleted, projects=readable)
    return {"experiments": [experiment_to_dict(e) for e in items]}


@router.get("/experiments/{experiment_id}", summary="Get an experiment")
def get_experiment(experiment_id: str, svc: Tracking) -> JSON:
    return experiment_to_dict(svc.get_experiment(experiment_id))


@router.delete("/experiments/{experiment_id}", summary="Delete an experiment (and hide its runs)")
def delete_experiment(experiment_id: str, svc: Tracking) -> JSON:
    return experiment_to_dict(svc.delete_experiment(experiment_id))


@router.post("/runs", status_code=201, summary="Create a run")
def create_run(body: RunCreate, svc: Tracking) -> JSON:
    check_batch_size(params=len(body.params), tags=len(body.tags))
    run = svc.create_run(
        str(body.experiment_id), name=body.name, params=body.params, tags=body.tags, start_time=body.start_time, run_id=body.run_id
    )
    return run_to_dict(run)


@router.post(
    "/runs/batch",
    summary="A run's calls in one request: create, artifacts, params, tags, metrics, end",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "`{run, artifacts}`: the run as stored and the artifacts logged."}},
)
def write_run(body: RunBatch, svc: Tracking) -> Response:
    points = parse_metrics(body.metrics)
    created = body.create
    check_batch_size(
        metrics=len(points),
        params=len(body.params) + (len(created.params) if created else 0),
        tags=len(body.tags) + (len(created.tags) if created else 0),
    )
    if (created is None) != (body.experiment_id is None):
        raise InvalidInputError("experiment_id and create go together: both to create the run, neither to write to it", field="experiment_id")
    create = None
    if created is not None:
        create = RunCreation(
            str(body.experiment_id), name=created.name, start_time=created.start_time, params=created.params,
            tags=created.tags, artifacts=_decoded(created.artifacts, "create.artifacts"),
        )
    end = RunEnding(RunStatus(body.end.status), body.end.end_time, body.end.failure) if body.end else None
    run, infos = svc.write_run(
        body.run_id, create=create, artifacts=_decoded(body.artifacts, "artifacts"), params=body.params,
        tags=body.tags, metrics=points, end=end,
    )
    # encoded here (orjson, on the request's worker thread) rather than by FastAPI's response
    # validation, which costs another trip through the thread pool per request
    document = {"run": run_to_dict(run), "artifacts": [_artifact(a) for a in infos]}
    return Response(orjson.dumps(document), media_type="application/json")


def _decoded(artifacts: list[InlineArtifact], field: str) -> dict[str, bytes]:
    decoded: dict[str, bytes] = {}
    for i, artifact in enumerate(artifacts):
        try:
            decoded[artifact.path] = base64.b64decode(artifact.data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"{field}[{i}].data is not base64", field=f"{field}[{i}].data") from None
    return decoded


@router.post("/runs/search", summary="Search runs with the filter language")
def search_runs(body: RunSearch, svc: Tracking, readable: Readable) -> JSON:
    page = svc.search_runs(
        body.experiments,
        filter=body.filter,
        order_by=body.order_by,
        max_results=body.max_results,
        page_token=body.page_token,
        include_deleted=body.include_deleted,
        projects=readable,
    )
    return {"runs": [run_to_dict(r) for r in page.runs], "next_page_token": page.next_page_token}


@router.get("/runs", summary="List runs (same filters as search)")
def list_runs(
    svc: Tracking,
    readable: Readable,
    experiment: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[str | None, Query(max_length=10_000)] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    max_results: Annotated[int, Query(ge=1, le=10_000)] = 100,
    page_token: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSON:
    page = svc.search_runs(
        experiment, filter=filter, order_by=order_by, max_results=max_results, page_token=page_token, projects=readable
    )
    return {"runs": [run_to_dict(r) for r in page.runs], "next_page_token": page.next_page_token}


@router.get("/runs/{run_id}", summary="Get a run")
def get_run(run_id: str, svc: Tracking) -> JSON:
    return run_to_dict(svc.get_run(run_id))


@router.get("/runs/{run_id}/failure", summary="The traceback of a failed run")
def get_run_failure(run_id: str, svc: Tracking) -> JSON:
    return {"failure": svc.get_run_failure(run_id)}


@router.patch("/runs/{run_id}", summary="End, rename or annotate a run")
def update_run(run_id: str, body: RunUpdate, svc: Tracking) -> JSON:
    status = RunStatus(body.status) if body.status else None
    if status is not None and status.is_terminal:
        run = svc.end_run(run_id, status, end_time=body.end_time, failure=body.failure)
        if body.name is not None or body.note is not None:
            run = svc.update_run(run_id, name=body.name, note=body.note)
        return run_to_dict(run)
    return run_to_dict(svc.update_run(run_id, status=status, end_time=body.end_time, name=body.name, note=body.note))


@router.delete("/runs/{run_id}", summary="Delete a run (soft)")
def delete_run(run_id: str, svc: Tracking) -> JSON:
    return run_to_dict(svc.delete_run(run_id))


@router.post("/runs/{run_id}/batch", summary="Log metrics, params and tags atomically")
def log_batch(run_id: str, body: LogBatch, svc: Tracking) -> JSON:
    points = parse_metrics(body.metrics)
    check_batch_size(metrics=len(points), params=len(body.params), tags=len(body.tags))
    svc.log_batch(run_id, metrics=points, params=body.params, tags=body.tags)
    return {"metrics": len(points), "params": len(body.params), "tags": len(body.tags)}


@router.post("/runs/{run_id}/inputs", summary="Record dataset versions the run used")
def log_inputs(run_id: str, body: LogInputs, svc: Tracking) -> JSON:
    check_batch_size(inputs=len(body.inputs))
    svc.log_inputs(run_id, [RunInput(i.dataset, i.role) for i in body.inputs])
    return run_to_dict(svc.get_run(run_id))


@router.get("/runs/{run_id}/metric-history", summary="Every point of one metric")
def metric_history(run_id: str, svc: Tracking, key: Annotated[str, Query(min_length=1, max_length=250)]) -> JSON:
    return {"metrics": [metric_to_dict(m) for m in svc.get_metric_history(run_id, key)]}


@router.get("/runs/{run_id}/artifacts", summary="List a run's artifacts")
def list_artifacts(run_id: str, svc: Tracking, prefix: Annotated[str, Query(max_length=1000)] = "") -> JSON:
    return {"artifacts": [_artifact(a) for a in svc.list_artifacts(run_id, prefix)]}


@router.put("/runs/{run_id}/artifacts/{path:path}", status_code=201, summary="Upload an artifact (raw body)")
async def put_artifact(run_id: str, path: str, request: Request, svc: Tracking) -> JSON:
    data = await request.body()
    # hashing, the blob write and the SQL insert block: keep them off the event loop
    return _artifact(await run_in_threadpool(svc.log_artifact_bytes, run_id, data, path))


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    summary="Download an artifact",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_artifact(run_id: str, path: str, svc: Tracking) -> Response:
    if not path:
        raise InvalidInputError("artifact path is empty", field="path")
    info, stream = svc.open_artifact(run_id, path)
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type="application/octet-stream",
        headers={"Content-Length": str(info.size), "X-Content-SHA256": info.digest},
    )


@router.get("/audit", summary="Audit trail entries, filtered, a page at a time (oldest first unless order=desc)")
def list_audit(
    request: Request,
    target: Annotated[str | None, Query(max_length=1000, description="Target prefix.")] = None,
    actor: Annotated[str | None, Query(max_length=250, description="Exactly this actor.")] = None,
    action: Annotated[str | None, Query(max_length=100, description="Action prefix.")] = None,
    since: Annotated[int | None, Query(ge=0, description="At or after (ms since the epoch).")] = None,
    until: Annotated[int | None, Query(ge=0, description="Before (ms since the epoch).")] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="asc: the chain's order; desc: newest first.")] = "asc",
    max_results: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    page_token: Annotated[str | None, Query(max_length=40)] = None,
) -> JSON:
    cursor = None
    if page_token:
        if not page_token.isdigit():
            raise InvalidInputError("page_token is not one this listing returned", field="page_token")
        cursor = int(page_token)
    page = request.app.state.services.audit().list_entries(
        target=target, actor=actor, action=action, since=since, until=until, cursor=cursor,
        newest_first=order == "desc", max_results=max_results,
    )
    return {
        "entries": [
            {"entry_id": e.entry_id, "timestamp": e.timestamp, "actor": e.actor, "action": e.action, "target": e.target, "details": e.details}
            for e in page.entries
        ],
        "next_page_token": None if page.next_cursor is None else str(page.next_cursor),
    }
