"""Request dependencies: the caller's identity and the services acting for them."""

from __future__ import annotations

from fastapi import Request

from steward.tracking import TrackingService
from steward.wiring import Services


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def current_actor(request: Request) -> str:
    """Who is calling. Until authentication lands, the X-Steward-User header or the server user."""
    header = request.headers.get("x-steward-user")
    if header and len(header) <= 250:
        return header
    actor: str = request.app.state.default_actor
    return actor


def tracking_service(request: Request) -> TrackingService:
    return services(request).tracking(current_actor(request))
