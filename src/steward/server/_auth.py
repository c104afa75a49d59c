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
import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, routing
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward.core.permissions import (
    OPERATIONS,
    PUBLIC_PATHS,
    ObjectKind,
    Operation,
    Permission,
    Ref,
    Source,
    new_project,
    requested_project,
)
from steward.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    StewardError,
)
from steward.governance import Principal, check_user_name
from steward.wiring import Services

from ._denials import (
    REFUSALS,
    RefusalBursts,
    RefusalMark,
    begin_request,
    record_bursts,
    record_denial,
    refusal_reason,
    was_recorded,
)
from ._errors import error_response
from ._ratelimit import LoginLimiter, TrustedProxies

__all__ = ["PRINCIPAL_KEY", "AuthMiddleware", "authorize", "principal_of", "readable_projects"]

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
    """Identify the caller of every non-public request, or answer 401; audit every refusal.

    Failed logins count against the client address and, for passwords, the user name
    (:class:`~steward.server._ratelimit.LoginLimiter`). A valid API token is accepted even
    from a limited address; a password is not even checked for a limited address or user.
    Every 401, 403 and 429 of the request, whoever answers it, reaches the audit trail
    (see :mod:`steward.server._denials`).

    Args:
        app: the wrapped ASGI app.
        enabled: authentication is on; when off, requests pass unidentified (their
            refusals are still audited).
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` names the client.
    """

    def __init__(self, app: ASGIApp, enabled: bool, trusted_proxies: Sequence[str] = ()) -> None:
        self.app = app
        self.enabled = enabled
        self.proxies = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        services: Services = state.services
        client = self.proxies.client_of(scope)
        peer = scope.get("client")
        if peer is None or peer[0] != client:
            # routes, the permission check and the logs see the client, not the proxy
            scope["client"] = (client, 0)
        bursts: RefusalBursts | None = getattr(state, "refusal_bursts", None)
        closed = bursts.due() if bursts is not None else []
        if closed:
            await run_in_threadpool(record_bursts, services, closed)
        mark = begin_request()
        ui_owns = getattr(state, "ui_owns", None)  # the web UI's pages check its session cookie
        if self.enabled and scope["path"] not in PUBLIC_PATHS and not (ui_owns is not None and ui_owns(scope["path"])):
            refusal = await self._identify(scope, services, client)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self._watched(scope, receive, send, mark, client)

    async def _identify(self, scope: Scope, services: Services, client: str) -> Response | None:
        """Set the caller on the scope, or return the refusal to send."""
        state = scope["app"].state
        header = ""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                header = value.decode("latin-1")
                break
        limiter: LoginLimiter | None = getattr(state, "auth_limiter", None)
        user = _claimed_user(header)
        method, path = scope["method"], scope["path"]
        if not header:
            # browsers and clients without a token ask first: counted as a burst, not per request
            return await self._refuse(scope, AuthenticationError("authentication required: send 'Authorization: Bearer <token>'"), client, None)
        try:
            if user is not None and limiter is not None:
                try:
                    # the counts are in the database (shared by the replicas): off the event loop
                    await run_in_threadpool(limiter.check_password, user, client)
                except RateLimitedError as exc:
                    return await self._refuse(scope, exc, client, user)
            try:
                scope[PRINCIPAL_KEY] = await run_in_threadpool(_authenticate, services, header)
            except AuthenticationError as exc:
                if limiter is not None:
                    retry = await run_in_threadpool(limiter.address_blocked_for, client)
                    if retry:
                        # a failing credential from a limited address: no more counting, one burst
                        limited = RateLimitedError(f"too many failed authentication attempts; retry in {retry} s", retry_after=retry)
                        return await self._refuse(scope, limited, client, user)
                    await run_in_threadpool(limiter.failure, client, user)
                await run_in_threadpool(record_denial, services, "anonymous", method, path, exc.message, client)
                return _error(exc)
        except StewardError as exc:  # the store is down: not the caller's fault, not a refusal
            return _error(exc)
        return None

    async def _refuse(self, scope: Scope, exc: StewardError, client: str, user: str | None) -> Response:
        """A flooding refusal (429, no credential): counted into its burst, audited per window."""
        bursts: RefusalBursts | None = getattr(scope["app"].state, "refusal_bursts", None)
        if bursts is not None:
            closed = bursts.add(client, _auditable_user(user), exc.status, scope["method"], scope["path"], exc.message)
            if closed:
                await run_in_threadpool(record_bursts, scope["app"].state.services, closed)
        return _error(exc)

    async def _watched(self, scope: Scope, receive: Receive, send: Send, mark: RefusalMark, client: str) -> None:
        """Run the app; audit a refusal it answers that nobody recorded on the way."""
        status = 0
        body = bytearray()

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status in REFUSALS and len(body) < 4096:
                body.extend(message.get("body", b"")[:4096])
            await send(message)

        await self.app(scope, receive, watching_send)
        if status not in REFUSALS or was_recorded(mark):
            return
        reason = refusal_reason(bytes(body), status)
        principal = scope.get(PRINCIPAL_KEY)
        if status == 429:
            await self._refuse(scope, RateLimitedError(reason), client, principal.name if isinstance(principal, Principal) else None)
            return
        services: Services = scope["app"].state.services
        await run_in_threadpool(record_denial, services, _actor_of(scope, self.enabled), scope["method"], scope["path"], reason, client)


def _claimed_user(header: str) -> str | None:
    """The user name of HTTP basic credentials (None for a token or anything malformed)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, sep, _password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return name[:200] if sep else None


def _auditable_user(user: str | None) -> str | None:
    # a password typed into the user field must not reach the audit trail: names only
    if user is None:
        return None
    try:
        return check_user_name(user)
    except StewardError:
        return None


def _actor_of(scope: Scope, enabled: bool) -> str:
    principal = scope.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal):
        return principal.name
    if enabled:
        return "anonymous"
    for key, value in scope.get("headers", []):
        if key == b"x-steward-user" and 0 < len(value) <= 250:
            return bytes(value).decode("latin-1")
    actor: str = scope["app"].state.default_actor
    return actor


def _error(exc: StewardError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.field)
    if exc.status == 401:
        response.headers["www-authenticate"] = _CHALLENGE
    if isinstance(exc, RateLimitedError):
        response.headers["retry-after"] = str(exc.retry_after)
    return response


async def authorize(request: Request) -> None:
    """The app-wide dependency: may this caller run the matched operation on what it touches?

    Looks the route up in the one permission table, resolves every object the request
    names (in the path, the query or the JSON body) to its project, and lets the
    governance service decide for each. A listing operation also records which projects
    the caller may read (:func:`readable_projects`), and the route filters its query by it.

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
    body = await _json_body(request) if any(ref.source is Source.BODY for ref in operation.refs) else {}
    services: Services = request.app.state.services
    try:
        # resolving projects reads the store: off the event loop
        await run_in_threadpool(_check, services, principal, operation, request, body)
    except PermissionDeniedError as exc:
        client = request.client.host if request.client else None
        await run_in_threadpool(record_denial, services, principal.name, request.method, request.url.path, exc.message, client)
        raise


def readable_projects(request: Request) -> frozenset[str] | None:
    """The projects a listing may show the caller (None: all, or authentication is off)."""
    found = getattr(request.state, _READABLE, None)
    return found if isinstance(found, frozenset) else None


_READABLE = "steward_readable_projects"
# objects a request may create: an unknown name is about to exist, in the requested project
_CREATABLE = frozenset({
    ObjectKind.EXPERIMENT_NAME, ObjectKind.MODEL, ObjectKind.DATASET, ObjectKind.SUITE, ObjectKind.FEATURE_VIEW,
    ObjectKind.TRIGGER,
})


def _check(services: Services, principal: Principal, operation: Operation, request: Request, body: dict[str, Any]) -> None:
    governance = services.governance(principal.name)
    checks: list[tuple[Permission, str | None]] = []
    for ref in operation.refs:
        kind = ref.kind
        for value in _values(ref, request, body):
            if kind is ObjectKind.SUITE_DOCUMENT:
                # the very parser the validation service stores the suite with names it
                from steward.data import parse_suite

                kind, value = ObjectKind.SUITE, parse_suite(value).name
            project = governance.project_of(kind, value)
            if project is None and kind in _CREATABLE and request.method != "GET":
                # the project query parameter only where the body is not JSON (a dataset upload)
                query_project = None if body else request.query_params.get("project")
                project = new_project(value, requested_project(query_project, body))
            checks.append((ref.permission or operation.permission, project))
    governance.authorize(principal, operation, checks)
    if operation.listing:
        setattr(request.state, _READABLE, governance.readable_projects(principal, operation.permission))


def _values(ref: Ref, request: Request, body: dict[str, Any]) -> list[str]:
    """The values of one reference in the request (several for a list field)."""
    for name in ref.fields:
        if ref.source is Source.PATH:
            raw: Any = request.path_params.get(name)  # Any: a JSON value
        elif ref.source is Source.QUERY:
            raw = request.query_params.getlist(name) if ref.many else request.query_params.get(name)
        else:
            raw = body.get(name)
        if raw is None or raw == "" or raw == []:
            continue
        items = raw if isinstance(raw, list) else [raw]
        return [str(v) for v in items if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v)]
    return []


async def _json_body(request: Request) -> dict[str, Any]:
    """The JSON object of the body, or ``{}`` (the route then refuses a malformed body itself)."""
    try:
        parsed = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


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
