"""Request dependencies: the caller's identity and the services acting for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field

from steward.errors import AuthenticationError
from steward.governance import Principal
from steward.tracking import LoggedModelService, TrackingService
from steward.wiring import Services

from ._auth import PRINCIPAL_KEY, readable_projects

# The dependencies below only read the request and build objects (no I/O): async, so that
# FastAPI calls them on the event loop instead of sending each to the thread pool, a thread
# switch per dependency per request.


async def _readable(request: Request) -> frozenset[str] | None:
    return readable_projects(request)


# The projects a listing may show the caller (None: every project); set by the one
# authorisation check, so every list route filters its query the same way.
Readable = Annotated[frozenset[str] | None, Depends(_readable)]
# The project a new object is created in (default: the object's own name).
Project = Annotated[str, Field(min_length=1, max_length=250, description="The project a new object belongs to (default: its name).")]


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def current_actor(request: Request) -> str:
    """Who is calling: the authenticated user when authentication is on; otherwise (a
    trusted, local server) the X-Steward-User header or the server's own user."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal):
        return principal.name
    if request.app.state.auth_enabled:
        # never trust a client-chosen name on an authenticating server
        raise AuthenticationError("authentication required")
    header = request.headers.get("x-steward-user")
    if header and len(header) <= 250:
        return header
    actor: str = request.app.state.default_actor
    return actor


async def tracking_service(request: Request) -> TrackingService:
    return services(request).tracking(current_actor(request))


async def logged_model_service(request: Request) -> LoggedModelService:
    return services(request).logged_models(current_actor(request))
