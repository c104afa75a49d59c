"""Map the one error tree (and request validation) to the one JSON error shape."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

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
    """``("body", "inputs", 0, "role")`` -> ``inputs[0].role``, the spelling our own errors use."""
    parts = list(loc)
    # only the first element names where the value came from; a dict key may be "body" too
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "body"


async def _steward_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StewardError)
    if exc.status >= 500:
        log.error("request failed: %s", exc.message, exc_info=exc)
    return error_response(exc.status, exc.code, exc.message, exc.field)


def _union_members(errs: Sequence[Any], first: Any) -> list[Any]:  # Any: pydantic error dicts
    """The errors pydantic reports for the members of one union, all about the same value.

    A value that fits no member of ``str | int`` yields one error per member, each with
    the member's name appended to the location (``params.a.str``, ``params.a.int``).
    """
    loc = tuple(first.get("loc", ()))
    if not loc:
        return [first]
    return [
        e for e in errs if tuple(e.get("loc", ()))[:-1] == loc[:-1] and len(e.get("loc", ())) == len(loc) and e.get("input") is first.get("input")
    ]


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errs = exc.errors()
    first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return error_response(400, "BAD_REQUEST", "request body is not valid JSON", "body")
    members = _union_members(errs, first)
    loc = tuple(first.get("loc", ()))
    if len(members) > 1:
        # name the value, not pydantic's union member ("params.a", not "params.a.str")
        field = _field_of(loc[:-1])
        message = f"{field}: " + "; or ".join(str(e.get("msg", "invalid value")) for e in members)
    else:
        field = _field_of(loc)
        message = f"{field}: {first.get('msg', 'invalid value')}"
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
