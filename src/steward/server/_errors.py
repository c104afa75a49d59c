"""Map the one error tree (and request validation) to the one JSON error shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from steward.errors import StewardError

log = logging.getLogger("steward.server")

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_INPUT",
    429: "RATE_LIMITED",
}


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


def _field_of(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _steward_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StewardError)
    if exc.status >= 500:
        log.error("request failed: %s", exc.message, exc_info=exc)
    return error_response(exc.status, exc.code, exc.message, exc.field)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = _field_of(first.get("loc", ()))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if first.get("type") == "json_invalid":
        return error_response(400, "BAD_REQUEST", "request body is not valid JSON", "body")
    return error_response(422, "INVALID_INPUT", message, field)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "ERROR")
    detail = exc.detail if isinstance(exc.detail, str) else code.lower()
    return error_response(exc.status_code, code, detail)


async def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "INTERNAL_ERROR", "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StewardError, _steward_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
