"""REST route of a registered model's timeline: GET /api/v1/models/{name}/timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ._deps import services

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/models/{name}/timeline", summary="A registered model's audited history, oldest first")
def get_timeline(
    name: str,
    request: Request,
    after: Annotated[int, Query(ge=0, description="An earlier page's next_after (0: from the start).")] = 0,
    max_results: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:  # Any: JSON values
    return services(request).timeline().get_timeline(name, after=after, max_results=max_results).to_dict()
