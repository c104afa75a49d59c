"""Alerts API: ``GET /metrics`` (Prometheus alert gauges) and ``/api/v1/alerts`` (state and history).

Alert rules belong to no one project (a rule may watch no deployment at all), so reading
them is a global read: a token bound on ``"*"`` (a Prometheus scraper's viewer token), or a
global administrator. The gauges carry rule names and states only, but rule names can
name deployments and features, which is why ``/metrics`` is not public.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ._deps import current_actor, services

JSON = dict[str, Any]  # Any: JSON values

router = APIRouter(tags=["alerts"])

RuleName = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


@router.get("/metrics", summary="Prometheus alert gauges: steward_alert_firing{rule,severity}", response_class=Response)
def metrics(request: Request) -> Response:
    body = services(request).alerts(current_actor(request)).render_gauges()
    body += services(request).features(current_actor(request)).render_freshness()  # the feature store's freshness per view
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/api/v1/alerts", summary="Every evaluated alert rule and its state")
def list_alerts(request: Request) -> JSON:
    records = services(request).alerts(current_actor(request)).list_alerts()
    return {"alerts": [r.to_dict() for r in records]}


@router.get("/api/v1/alerts/{name}", summary="An alert rule's state and its newest events")
def get_alert(request: Request, name: RuleName, max_events: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSON:
    record, events = services(request).alerts(current_actor(request)).get_alert(name, max_events=max_events)
    return {**record.to_dict(), "events": [e.to_dict() for e in events]}
