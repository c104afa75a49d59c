"""REST routes of the evaluation stage: evaluations, gates, overrides and model cards of a
version, under /api/v1/models/{name}/versions/{version}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from steward.evaluation import EvaluationOptions, EvaluationService, render_html, render_markdown

from ._deps import current_actor, services

router = APIRouter(prefix="/api/v1", tags=["evaluation"])
JSON = dict[str, Any]  # Any: JSON values
Column = Annotated[str, Field(min_length=1, max_length=250)]
_VERSION = "/models/{name}/versions/{version}"


def evaluation_service(request: Request) -> EvaluationService:
    return services(request).evaluation(current_actor(request))


Evaluation = Annotated[EvaluationService, Depends(evaluation_service)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvaluationCreate(_Body):
    data: Annotated[str, Field(min_length=1, max_length=1000, description="Dataset version: holdout:2 or datasets:/holdout/2.")]
    target: Column
    slices: Annotated[list[Column], Field(max_length=50)] = Field(default_factory=list)
    sensitive: Column | None = None
    task: Annotated[str, Field(pattern="^(classification|regression)$")] | None = None
    measure_latency: bool = True


class GateCreate(_Body):
    policy: Annotated[str, Field(min_length=1, max_length=100_000, description="The gate policy YAML.")]
    data: Annotated[str, Field(min_length=1, max_length=1000)]
    target: Column
    slices: Annotated[list[Column], Field(max_length=50)] = Field(default_factory=list)
    task: Annotated[str, Field(pattern="^(classification|regression)$")] | None = None


class OverrideCreate(_Body):
    reason: Annotated[str, Field(min_length=1, max_length=5_000)]


class CardUpdate(_Body):
    fields: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=8_000)]]


def _ref(name: str, version: int) -> str:
    return f"models:/{name}/{version}"


@router.post(f"{_VERSION}/evaluations", status_code=201, summary="Evaluate a version on a dataset version")
def create_evaluation(name: str, version: int, body: EvaluationCreate, svc: Evaluation) -> JSON:
    options = EvaluationOptions(
        target=body.target, task=body.task, slices=tuple(body.slices), sensitive=body.sensitive,  # type: ignore[arg-type]
        measure_latency=body.measure_latency,
    )
    return svc.evaluate(_ref(name, version), body.data, options, allow_files=False).to_dict()


@router.get(f"{_VERSION}/evaluations", summary="Stored evaluations of a version, newest first")
def list_evaluations(name: str, version: int, svc: Evaluation, max_results: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSON:
    return {"evaluations": [e.to_dict() for e in svc.list_evaluations(_ref(name, version), limit=max_results)]}


@router.post(f"{_VERSION}/gates", status_code=201, summary="Gate a version against the champion (stored; see `passed`)")
def create_gate(name: str, version: int, body: GateCreate, svc: Evaluation) -> JSON:
    record = svc.gate(
        _ref(name, version), body.data, body.policy, target=body.target, task=body.task, slices=tuple(body.slices), allow_files=False
    )
    return record.to_dict()


@router.get(f"{_VERSION}/gates", summary="Stored gate outcomes of a version, newest first")
def list_gates(name: str, version: int, svc: Evaluation, max_results: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSON:
    return {"gates": [g.to_dict() for g in svc.list_gates(_ref(name, version), limit=max_results)]}


@router.post(f"{_VERSION}/gates/override", status_code=201, summary="Administrators: waive the latest failed gate (audited)")
def override_gate(name: str, version: int, body: OverrideCreate, svc: Evaluation) -> JSON:
    return svc.override(_ref(name, version), body.reason).to_dict()


@router.get(f"{_VERSION}/card", summary="The model card: JSON, Markdown or self-contained HTML", response_model=None)
def get_card(
    name: str, version: int, svc: Evaluation, format: Annotated[str, Query(pattern="^(json|markdown|html)$")] = "json"
) -> JSON | Response:
    card = svc.card(_ref(name, version))
    if format == "html":
        return HTMLResponse(render_html(card))
    if format == "markdown":
        return PlainTextResponse(render_markdown(card), media_type="text/markdown")
    return card


@router.put(f"{_VERSION}/card", summary="Fill in the owner's fields of the card (intended_use, limitations, ...)")
def update_card(name: str, version: int, body: CardUpdate, svc: Evaluation) -> JSON:
    svc.set_card_fields(_ref(name, version), dict(body.fields))
    return svc.card(_ref(name, version))
