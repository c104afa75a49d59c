"""Authentication and authorisation of every request, in one place.

:class:`AuthMiddleware` identifies the caller before routing (a Bearer API token or HTTP
basic for password users) and answers 401 to anyone unidentified on a non-public path,
whatever the route, the method or the body. :func:`authorize`, installed once as an
app-wide dependency, looks the matched route up in the one permission table
(:data:`steward.core.permissions.OPERATIONS`) and lets the governance service decide.
A route missing from the table is refused (fail closed), and a test fails on it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from fastapi import FastAPI, Request, routing
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from steward.core.permissions import OPERATIONS, PUBLIC_PATHS, Permission
from steward.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    StewardError,
)
from steward.governance import Principal
from steward.wiring import Services

from ._denials import record_denial
from ._errors import error_response
from ._ratelimit import RateLimiter

__all__ = ["PRINCIPAL_KEY", "AuthMiddleware", "authorize", "principal_of"]

PRINCIPAL_KEY = "steward.principal"
_CHALLENGE = 'Bearer realm="steward", Basic realm="steward"'


def principal_of(request: Request) -> Principal | None:
    """The authenticated caller of ``request`` (None when authentication is off)."""
    found = request.scope.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def _authenticate(services: Services, header: str) -> Principal:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    governance = services.governance("auth")
    if scheme.lower() == "bearer" and value:
        return governance.authenticate_token(value)
    if scheme.lower() == "basic" and value:
        try:
            name, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed basic credentials") from None
        if sep:
            return governance.authenticate_password(name, password)
    raise AuthenticationError("authentication required: send 'Authorization: Bearer <token>'")


class AuthMiddleware:
    """Identify the caller of every non-public request, or answer 401.

    Args:
        app: the wrapped ASGI app.
        enabled: authentication is on; when off, requests pass untouched.
    """

    def __init__(self, app: ASGIApp, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = ""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                header = value.decode("latin-1")
                break
        services: Services = scope["app"].state.services
        # brute-force defence: presented credentials that fail count against the address
        limiter: RateLimiter | None = getattr(scope["app"].state, "auth_limiter", None)
        client = str((scope.get("client") or ("unknown",))[0])
        try:
            if limiter is not None and header:
                limiter.check(client)
            scope[PRINCIPAL_KEY] = await run_in_threadpool(_authenticate, services, header)
        except StewardError as exc:
            response = error_response(exc.status, exc.code, exc.message)
            if exc.status == 401:
                response.headers["www-authenticate"] = _CHALLENGE
                if header:
                    if limiter is not None:
                        limiter.failure(client)
                    await run_in_threadpool(record_denial, services, "anonymous", scope["method"], scope["path"], exc.message, client)
            if isinstance(exc, RateLimitedError):
                response.headers["retry-after"] = str(exc.retry_after)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def authorize(request: Request) -> None:
    """The app-wide dependency: may this caller run the matched operation?

    Synchronous on purpose: FastAPI runs it in the thread pool, where resolving a run's
    project (a database read) does not block the event loop.

    Raises:
        AuthenticationError: no caller was identified (cannot happen behind the middleware).
        PermissionDeniedError: the permission table refuses, or has no entry for the route.
    """
    if not request.app.state.auth_enabled:
        return
    method = "GET" if request.method == "HEAD" else request.method
    operation = OPERATIONS.get((method, _template_of(request.app, method, request.scope["path"])))
    if operation is None:
        raise PermissionDeniedError("this operation is not in the permission table")
    if operation.permission is Permission.PUBLIC:
        return
    principal = principal_of(request)
    if principal is None:
        raise AuthenticationError("authentication required")
    services: Services = request.app.state.services
    try:
        services.governance(principal.name).authorize(principal, operation, dict(request.path_params))
    except PermissionDeniedError as exc:
        client = request.client.host if request.client else None
        record_denial(services, principal.name, request.method, request.url.path, exc.message, client)
        raise


def _route_templates(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str], str]]:
    """(regex of the full path, methods, path template) of every route, in routing order.

    Built once, at the first request, when every router is included. A route included
    twice under different prefixes (the MLflow API) appears once per prefix: matching the
    request path here, rather than trusting ``scope["route"]``, tells them apart.
    """
    cached: list[tuple[re.Pattern[str], frozenset[str], str]] | None = getattr(app.state, "auth_routes", None)
    if cached is None:
        # FastAPI >= 0.16x nests included routers; older versions list flat routes
        iterate = getattr(routing, "iter_route_contexts", None)
        routes: Any = iterate(app.routes) if iterate is not None else app.routes  # Any: route-likes
        cached = []
        for route in routes:
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if path and methods:
                regex, template, _convertors = compile_path(path)
                cached.append((regex, frozenset(methods), template))
        app.state.auth_routes = cached
    return cached


def _template_of(app: FastAPI, method: str, path: str) -> str:
    for regex, methods, template in _route_templates(app):
        if method in methods and regex.match(path):
            return template
    return ""
