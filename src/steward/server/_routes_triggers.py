"""Triggers API under /api/v1/triggers: parse, call one triggers function, serialise.

Permissions (core/permissions.py): a trigger belongs to its project (the body's ``project``,
default its name). Reading triggers and their history needs ``runs.read`` there; creating,
firing and deleting need ``runs.write`` (a trigger starts pipelines, which write runs), and
the dataset, model or monitor it watches must be readable. ``tick`` looks at every project's
triggers: administrators only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from steward.triggers import TriggerService

from ._deps import Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["triggers"])
JSON = dict[str, Any]  # Any: JSON values
Param = str | int | float | bool | None


def trigger_service(request: Request) -> TriggerService:
    return services(request).triggers(current_actor(request))


Triggers = Annotated[TriggerService, Depends(trigger_service)]


class TriggerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=63)]
    kind: Annotated[str, Field(pattern="^(cron|dataset|alert|registry)$")]
    pipeline: Annotated[str, Field(min_length=1, max_length=1000, description="A Python file on the server's side.")]
    pipeline_name: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    params: Annotated[dict[str, Param], Field(max_length=50)] = {}
    input: Annotated[str | None, Field(max_length=100, description="The parameter given the event's input; '' the kind's default.")] = ""
    schedule: Annotated[str, Field(max_length=200, description="5-field cron, UTC.")] | None = None
    timezone: Annotated[str, Field(max_length=40)] = "UTC"
    dataset: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    alert: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    monitor: Annotated[str, Field(min_length=1, max_length=63, description="alert: a monitor whose window drifts.")] | None = None
    model: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    events: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=3)] | None = None
    project: Annotated[str, Field(min_length=1, max_length=250)] | None = None


class TriggerFire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: Annotated[dict[str, Param], Field(max_length=50)] = {}


@router.post("/triggers", status_code=201, summary="Create a trigger of a pipeline")
def create_trigger(body: TriggerCreate, svc: Triggers) -> JSON:
    return svc.create_trigger(
        body.name, body.kind, body.pipeline, pipeline_name=body.pipeline_name, params=body.params, input_param=body.input,
        schedule=body.schedule, timezone=body.timezone, dataset=body.dataset, alert=body.alert, model=body.model,
        events=body.events, project=body.project, monitor=body.monitor,
    ).to_dict()


@router.get("/triggers", summary="List triggers")
def list_triggers(svc: Triggers, readable: Readable, project: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    return {"triggers": [t.to_dict() for t in svc.list_triggers(project=project, projects=readable)]}


@router.post("/triggers/tick", summary="Look at every trigger once and run the starts claimed")
async def tick_triggers(request: Request, svc: Triggers) -> JSON:
    holder = f"api:{current_actor(request)}"

    def look() -> list[JSON]:
        return [svc.run_start(s).to_dict() for s in svc.tick(holder)]

    return {"starts": await run_in_threadpool(look)}


@router.get("/triggers/{name}", summary="A trigger")
def get_trigger(name: str, svc: Triggers) -> JSON:
    return svc.get_trigger(name).to_dict()


@router.get("/triggers/{name}/history", summary="A trigger's pipeline starts, newest first")
def trigger_history(name: str, svc: Triggers, max_results: Annotated[int, Query(ge=1, le=10_000)] = 50) -> JSON:
    return {"starts": [s.to_dict() for s in svc.history(name, max_results)]}


@router.post("/triggers/{name}/fire", summary="Start the trigger's pipeline now")
async def fire_trigger(name: str, svc: Triggers, body: TriggerFire) -> JSON:
    params = body.params  # {} for "as configured"
    start = await run_in_threadpool(lambda: svc.fire(name, params=params))  # the pipeline runs: off the event loop
    return start.to_dict()


@router.delete("/triggers/{name}", status_code=204, summary="Delete a trigger and its history")
def delete_trigger(name: str, svc: Triggers) -> Response:
    svc.delete_trigger(name)
    return Response(status_code=204)
