"""MLflow's error shape on the MLflow-compatible routes.

The ``mlflow`` client parses ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}``
and decides on retries from the HTTP status, so these routes answer in MLflow's words
rather than Steward's ``{"error": {...}}``. The status still comes from one table keyed by
the one error tree (looked up along the MRO), never from the raise site.

Conflicts (logging to a finished run, changing a param) answer 400, not MLflow's
``INVALID_STATE`` 500: the client retries 5xx answers for minutes, and a conflict never
heals by retrying.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from steward.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StewardError,
    StorageError,
)

log = logging.getLogger("steward.server.mlflow")

# The one table: error class -> (MLflow error code, HTTP status MLflow uses for that code).
MLFLOW_CODES: dict[type[StewardError], tuple[str, int]] = {
    StewardError: ("INTERNAL_ERROR", 500),
    InvalidInputError: ("INVALID_PARAMETER_VALUE", 400),
    NotFoundError: ("RESOURCE_DOES_NOT_EXIST", 404),
    PermissionDeniedError: ("PERMISSION_DENIED", 403),
    AuthenticationError: ("UNAUTHENTICATED", 401),
    ConflictError: ("INVALID_PARAMETER_VALUE", 400),
    AlreadyExistsError: ("RESOURCE_ALREADY_EXISTS", 400),
    StorageError: ("TEMPORARILY_UNAVAILABLE", 503),
    IntegrityError: ("INTERNAL_ERROR", 500),
}


def mlflow_code(exc: StewardError) -> tuple[str, int]:
    """The MLflow error code and status of ``exc``: the nearest class along its MRO."""
    for cls in type(exc).__mro__:
        if cls in MLFLOW_CODES:
            return MLFLOW_CODES[cls]
    return MLFLOW_CODES[StewardError]


def mlflow_error(code: str, message: str, status: int) -> JSONResponse:
    """One MLflow error body."""
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


def _from_validation(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return mlflow_error("MALFORMED_REQUEST", "request body is not valid JSON", 400)
    parts = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(parts) or "body"
    return mlflow_error("INVALID_PARAMETER_VALUE", f"Invalid value for parameter '{field}': {first.get('msg', 'invalid')}", 400)


class MlflowRoute(APIRoute):
    """A route that answers errors in MLflow's shape instead of Steward's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:  # Any: starlette's signature
        handler = super().get_route_handler()

        async def mlflow_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except StewardError as exc:
                code, status = mlflow_code(exc)
                if status >= 500:
                    log.error("mlflow request failed: %s", exc.message, exc_info=exc)
                return mlflow_error(code, exc.message, status)
            except RequestValidationError as exc:
                return _from_validation(exc)

        return mlflow_handler
