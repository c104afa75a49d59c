"""REST routes of model stewardship: owners and on-call contacts, retirement, rollback drills.

Permissions (core/permissions.py): reading an owner needs ``models.read``; setting one
``models.write`` on the model's project, as does recording a stage of a lifecycle run
(``steward retrain`` through a server; the ``models.retrain.*`` actions only); retiring
``models.promote`` there, and with ``drain`` also ``deployments.write`` on the project of every
deployment it drains; recording a drill ``deployments.write`` on the deployment's project.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from steward.core.permissions import Operation, Permission
from steward.errors import InvalidInputError
from steward.stewardship import Drill
from steward.stewardship._types import RETRAIN_ACTIONS

from ._auth import principal_of
from ._deps import current_actor, services

router = APIRouter(prefix="/api/v1", tags=["stewardship"])
JSON = dict[str, Any]  # Any: JSON values


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OwnerChange(_Body):
    owner: Annotated[str, Field(min_length=1, max_length=250)] | None = None
    on_call: Annotated[str, Field(max_length=500)] | None = None


class RetireRequest(_Body):
    drain: bool = False
    comment: Annotated[str, Field(max_length=2000)] = ""


class StageRecord(_Body):
    action: Literal[RETRAIN_ACTIONS]  # type: ignore[valid-type]  # the tuple's values, checked by pydantic
    details: Annotated[dict[str, Any], Field(max_length=50)] = {}  # Any: JSON values
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class DrillRecord(_Body):
    started_at: Annotated[int, Field(ge=0)]
    serving: Annotated[str, Field(min_length=1, max_length=300)]
    rehearsed: Annotated[str, Field(min_length=1, max_length=300)]
    rollback_ms: Annotated[int, Field(ge=0, le=86_400_000)]
    restore_ms: Annotated[int, Field(ge=0, le=86_400_000)]
    requests: Annotated[int, Field(ge=0)]
    failed: Annotated[int, Field(ge=0)]
    passed: bool


def _svc(request: Request) -> Any:  # Any: StewardshipService
    return services(request).stewardship(current_actor(request))


@router.get("/models/{name}/owner", summary="A registered model's owner and on-call contact")
def get_owner(name: str, request: Request) -> JSON:
    return dict(_svc(request).get_owner(name).to_dict())


@router.put("/models/{name}/owner", summary="Set a registered model's owner and/or on-call contact")
def set_owner(name: str, body: OwnerChange, request: Request) -> JSON:
    return dict(_svc(request).set_owner(name, owner=body.owner, on_call=body.on_call).to_dict())


@router.post("/models/{name}/lifecycle-stages", status_code=204, summary="Record a stage of a lifecycle run (steward retrain) on the model's timeline")
def record_stage(name: str, body: StageRecord, request: Request) -> Response:
    if len(json.dumps(body.details, default=str)) > 20_000:
        raise InvalidInputError("details must be at most 20,000 characters of JSON", field="details")
    _svc(request).record_stage(name, body.action, dict(body.details), version=body.version)
    return Response(status_code=204)


@router.post("/models/{name}/versions/{version}/retire", summary="Retire a version (refused while it serves unless drain)")
def retire(name: str, version: int, body: RetireRequest, request: Request) -> JSON:
    svc = _svc(request)
    principal = principal_of(request)
    if body.drain and principal is not None:
        # draining changes deployments: the caller needs deployments.write on each one's project too
        permission = Permission.DEPLOYMENTS_WRITE
        governance = services(request).governance(principal.name)
        checks = [(permission, svc.deployments.deployment_project(d)) for d in svc.serving(name, version)]
        if checks:
            governance.authorize(principal, Operation(permission, (), False, False), checks)
    return dict(svc.retire(name, version, drain=body.drain, comment=body.comment).to_dict())


@router.get("/models/{name}/versions/{version}/retirement", summary="How a version was retired and what it served, when")
def get_retirement(name: str, version: int, request: Request) -> JSON:
    return dict(_svc(request).get_retirement(name, version).to_dict())


@router.post("/deployments/{name}/drills", status_code=201, summary="Record a rollback drill's outcome")
def record_drill(name: str, body: DrillRecord, request: Request) -> JSON:
    drill = Drill(name, body.started_at, "", body.serving, body.rehearsed, body.rollback_ms, body.restore_ms, body.requests, body.failed, body.passed)
    return dict(_svc(request).record_drill(drill).to_dict())


@router.get("/deployments/{name}/drills/last", summary="When the deployment's rollback plan was last tested")
def last_drill(name: str, request: Request) -> JSON:
    found = _svc(request).last_drill(name)
    return {"drill": found.to_dict() if found is not None else None}
