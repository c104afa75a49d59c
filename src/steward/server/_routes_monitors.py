"""Monitors API under /api/v1/monitors: parse, call one monitors function, serialise.

Permissions (core/permissions.py): a monitor belongs to its deployment's project. Reading
monitors and their results needs ``deployments.read`` there; creating, running and
deleting one needs ``models.write`` (the contributors who build the model watch it; a
viewer cannot), and a reference dataset version needs ``data.read`` on its project.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from steward.monitoring._monitors import MonitorService

from ._deps import Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["monitors"])
JSON = dict[str, Any]  # Any: JSON values


def monitor_service(request: Request) -> MonitorService:
    return services(request).monitors(current_actor(request))


Monitors = Annotated[MonitorService, Depends(monitor_service)]


class MonitorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=63)]
    deployment: Annotated[str, Field(min_length=1, max_length=63)]
    reference: Annotated[str, Field(min_length=1, max_length=500, description="A dataset version, e.g. transactions:3.")] | None = None
    reference_window: Annotated[
        str, Field(min_length=3, max_length=100, description="Instead, a time window of the log: START/END.")
    ] | None = None
    window: Annotated[str, Field(min_length=2, max_length=20, description="15m, 1h, 1d ...")] = "1h"
    schedule: Annotated[str, Field(max_length=200, description="5-field cron, UTC.")] | None = None
    sensitive: Annotated[list[Annotated[str, Field(min_length=1, max_length=250)]], Field(max_length=20)] = []
    min_rows: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    sensitivity: Annotated[str, Field(pattern="^(low|medium|high)$")] = "medium"
    embeddings: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=250)]],
        Field(max_length=50, description="Input list columns compared as embeddings (lists of floats are found by type)."),
    ] = []


@router.post("/monitors", status_code=201, summary="Create a monitor of a deployment")
def create_monitor(body: MonitorCreate, svc: Monitors) -> JSON:
    return svc.create_monitor(
        body.name, body.deployment, reference=body.reference, reference_window=body.reference_window,
        window=body.window, schedule=body.schedule, sensitive=body.sensitive, min_rows=body.min_rows,
        sensitivity=body.sensitivity, embeddings=body.embeddings,
    ).to_dict()


@router.get("/monitors", summary="List monitors")
def list_monitors(svc: Monitors, readable: Readable, project: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    return {"monitors": [m.to_dict() for m in svc.list_monitors(project=project, projects=readable)]}


@router.get("/monitors/{name}", summary="A monitor and its newest results")
def get_monitor(name: str, svc: Monitors, max_results: Annotated[int, Query(ge=1, le=10_000)] = 20) -> JSON:
    monitor = svc.get_monitor(name)
    return {**monitor.to_dict(), "results": [r.to_dict() for r in svc.list_results(name, max_results=max_results)]}


@router.post("/monitors/{name}/run", summary="Compute the latest window now")
async def run_monitor(name: str, svc: Monitors) -> JSON:
    # a window reads the log and the reference: off the event loop
    result = await run_in_threadpool(svc.run_monitor, name)
    return result.to_dict()


@router.delete("/monitors/{name}", status_code=204, summary="Delete a monitor and its results")
def delete_monitor(name: str, svc: Monitors) -> Response:
    svc.delete_monitor(name)
    return Response(status_code=204)
