"""The OpenAPI document states the error answers every route can give.

Any route may answer with the one error shape: 400 (malformed JSON or filter), 401 and 429
(authentication, its rate limit), 403 (the permission table), 404, 409, 413 (body limit),
422 (validation) and 503 (store unavailable) come from the error tree and the middleware,
not from the handler, so they are added to every operation here instead of by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["document_error_responses"]

_ERRORS = {
    "400": "Malformed request (invalid JSON or filter)",
    "401": "Authentication required (authentication on)",
    "403": "Permission denied",
    "404": "Not found",
    "409": "Conflict with the resource's state",
    "413": "Request body over the limit",
    "422": "Invalid input, naming the field",
    "429": "Too many failed authentications from this address",
    "503": "Store unavailable",
}
_SHAPE: dict[str, Any] = {  # Any: JSON Schema
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}},
        }
    },
}


def document_error_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` list the error answers on every operation (built once, cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:  # Any: the OpenAPI document
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for item in document.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for status, description in _ERRORS.items():
                    if status not in responses:
                        responses[status] = {"description": description, "content": {"application/json": {"schema": _SHAPE}}}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
