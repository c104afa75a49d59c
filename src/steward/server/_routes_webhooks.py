"""Webhooks API under /api/v1/webhooks: parse, call one webhooks function, serialise.

Permissions (core/permissions.py): a webhook belongs to the project whose events it
receives. Creating, reading, testing, redelivering and deleting need ``models.write`` there
(a viewer cannot; another project's contributor can neither see nor touch it). The secret
goes in once, at creation, and never comes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from steward.webhooks import WebhookService
from steward.webhooks._worker import webhook_worker
from steward.wiring import Services

from ._deps import Readable, current_actor, services

__all__ = ["install_webhook_worker", "router"]

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
JSON = dict[str, Any]  # Any: JSON values


def webhook_service(request: Request) -> WebhookService:
    return services(request).webhooks(current_actor(request))


Webhooks = Annotated[WebhookService, Depends(webhook_service)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=63)]
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    project: Annotated[str, Field(min_length=1, max_length=250, description="The project whose events it receives.")]
    events: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=20)]
    secret: Annotated[str, Field(min_length=1, max_length=4096, description="Signs every delivery (HMAC-SHA256); never returned.")]
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to a project's registry and deployment events")
def create_webhook(body: WebhookCreate, svc: Webhooks) -> JSON:
    return svc.create_webhook(
        body.name, body.url, project=body.project, events=body.events, secret=body.secret, max_attempts=body.max_attempts
    ).to_dict()


@router.get("/webhooks", summary="List webhooks")
def list_webhooks(svc: Webhooks, readable: Readable, project: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    return {"webhooks": [w.to_dict() for w in svc.list_webhooks(project=project, projects=readable)]}


@router.get("/webhooks/{name}", summary="A webhook (never its secret)")
def get_webhook(name: str, svc: Webhooks) -> JSON:
    return svc.get_webhook(name).to_dict()


@router.delete("/webhooks/{name}", status_code=204, summary="Delete a webhook and its delivery log")
def delete_webhook(name: str, svc: Webhooks) -> Response:
    svc.delete_webhook(name)
    return Response(status_code=204)


@router.get("/webhooks/{name}/deliveries", summary="A webhook's deliveries, newest first, with every attempt")
def list_deliveries(
    name: str,
    svc: Webhooks,
    status: Annotated[str | None, Query(pattern="^(pending|succeeded|failed)$")] = None,
    max_results: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> JSON:
    return {"deliveries": [d.to_dict() for d in svc.list_deliveries(name, status=status, max_results=max_results)]}


@router.post("/webhooks/{name}/test", summary="Send a ping event now")
async def test_webhook(name: str, svc: Webhooks) -> JSON:
    # a POST to the receiver (up to its timeout): off the event loop
    found = await run_in_threadpool(svc.test_webhook, name)
    return found.to_dict()


@router.post("/webhooks/{name}/deliveries/{delivery_id}/redeliver", summary="Send a delivery again now")
async def redeliver(name: str, delivery_id: str, svc: Webhooks) -> JSON:
    found = await run_in_threadpool(svc.redeliver, name, delivery_id)
    return found.to_dict()


@router.post("/webhook-deliveries/run", summary="Run one round of the delivery worker now (administrators)")
async def run_deliveries(svc: Webhooks) -> JSON:
    done = await run_in_threadpool(svc.deliver)
    return done.to_dict()


def install_webhook_worker(app: FastAPI, built: Services) -> None:
    """Run the webhook delivery worker inside ``app``'s lifespan (after its own start-up,
    stopped before its shutdown closes the services)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[Any]:  # Any: the inner lifespan's state
        async with inner(running) as state, webhook_worker(built):
            yield state

    app.router.lifespan_context = lifespan
