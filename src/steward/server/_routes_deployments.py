"""Deployments API under /api/v1/deployments: parse, call one deployments function, serialise.

Permissions (core/permissions.py): reads need ``deployments.read``, every traffic change
``deployments.write`` (deployer or admin) on the deployment's project and the model's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from steward.serving import DeploymentService

from ._deps import Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["deployments"])
JSON = dict[str, Any]  # Any: JSON values
Reason = Annotated[str, Field(max_length=2000)]
ModelRef = Annotated[str, Field(min_length=1, max_length=300)]


def deployment_service(request: Request) -> DeploymentService:
    return services(request).deployments(current_actor(request))


Deployments = Annotated[DeploymentService, Depends(deployment_service)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


FeatureRefs = Annotated[
    list[Annotated[str, Field(min_length=3, max_length=130)]],
    Field(max_length=500, description="view:feature references every request is completed with from the online store."),
]


class DeploymentCreate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    model: ModelRef
    reason: Reason = ""
    features: FeatureRefs | None = None


class FeaturesChange(_Body):
    features: FeatureRefs
    reason: Reason = ""


class ModelChange(_Body):
    model: ModelRef
    reason: Reason = ""


class CanaryChange(ModelChange):
    percent: Annotated[float, Field(gt=0, lt=100)]


class AbChange(ModelChange):
    split: Annotated[float, Field(gt=0, lt=100)]
    sticky_key: Annotated[str, Field(min_length=1, max_length=250)] | None = None


class RolloutStart(ModelChange):
    policy: Annotated[str, Field(min_length=1, max_length=100_000, description="The rollout policy's YAML text.")]


class ReasonOnly(_Body):
    reason: Reason = ""


@router.post("/deployments", status_code=201, summary="Create a deployment serving one model version")
def create_deployment(body: DeploymentCreate, svc: Deployments) -> JSON:
    return svc.create_deployment(body.name, body.model, reason=body.reason, features=body.features).to_dict()


@router.put("/deployments/{name}/features", summary="Declare the features requests are completed with from the online store")
def set_features(name: str, body: FeaturesChange, svc: Deployments) -> JSON:
    return svc.set_features(name, body.features, reason=body.reason).to_dict()


@router.get("/deployments", summary="List deployments")
def list_deployments(svc: Deployments, readable: Readable, project: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    return {"deployments": [d.to_dict() for d in svc.list_deployments(project=project, projects=readable)]}


@router.get("/deployments/{name}", summary="A deployment and its traffic plan")
def get_deployment(name: str, svc: Deployments) -> JSON:
    return svc.get_deployment(name).to_dict()


@router.delete("/deployments/{name}", status_code=204, summary="Delete a deployment (its history stays)")
def delete_deployment(name: str, svc: Deployments, reason: Annotated[str, Query(max_length=2000)] = "") -> Response:
    svc.delete_deployment(name, reason=reason)
    return Response(status_code=204)


@router.post("/deployments/{name}/canary", summary="Send a share of traffic to a candidate version")
def canary(name: str, body: CanaryChange, svc: Deployments) -> JSON:
    return svc.canary(name, body.model, percent=body.percent, reason=body.reason).to_dict()


@router.post("/deployments/{name}/ab", summary="A/B test a version, optionally sticky by a request field")
def ab(name: str, body: AbChange, svc: Deployments) -> JSON:
    return svc.ab(name, body.model, split=body.split, sticky_key=body.sticky_key, reason=body.reason).to_dict()


@router.post("/deployments/{name}/shadow", summary="Mirror traffic to a version; its answers are logged, never returned")
def shadow(name: str, body: ModelChange, svc: Deployments) -> JSON:
    return svc.shadow(name, body.model, reason=body.reason).to_dict()


@router.post("/deployments/{name}/switch", summary="Blue-green: a version takes all traffic, the old one stays for rollback")
def switch(name: str, body: ModelChange, svc: Deployments) -> JSON:
    return svc.switch(name, body.model, reason=body.reason).to_dict()


@router.post("/deployments/{name}/promote", summary="The candidate (or shadow) becomes the primary")
def promote(name: str, body: ReasonOnly, svc: Deployments) -> JSON:
    return svc.promote(name, reason=body.reason).to_dict()


@router.post("/deployments/{name}/rollback", summary="Return all traffic to the primary (or the previous version)")
def rollback(name: str, body: ReasonOnly, svc: Deployments) -> JSON:
    return svc.rollback(name, reason=body.reason).to_dict()


@router.post("/deployments/{name}/rollout", summary="Start a progressive rollout of a version under a policy")
def start_rollout(name: str, body: RolloutStart, svc: Deployments) -> JSON:
    return svc.start_rollout(name, body.model, body.policy, reason=body.reason).to_dict()


@router.get("/deployments/{name}/rollout", summary="The rollout's state, step and evidence as of now")
def rollout_status(name: str, svc: Deployments) -> JSON:
    return svc.rollout_status(name)


@router.get("/deployments/{name}/history", summary="Every change of a deployment: who, what and why")
def list_history(name: str, svc: Deployments, max_results: Annotated[int, Query(ge=1, le=10_000)] = 100) -> JSON:
    return {"history": [e.to_dict() for e in svc.list_history(name, max_results=max_results)]}
