"""The ASGI application: built once from settings; state hangs off ``app.state``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward import __version__
from steward.adapters.sql import current_revision, head_revision
from steward.errors import StewardError
from steward.governance import install_redaction
from steward.monitoring._runner import monitor_runner
from steward.triggers._runner import trigger_runner
from steward.settings import Settings
from steward.ui import install_ui, owns_path
from steward.wiring import Services, build_services, default_actor

from ._audit_checkpoints import audit_checkpoints
from ._auth import AuthMiddleware, authorize
from ._denials import RefusalBursts, record_bursts
from ._errors import error_response, install_error_handlers, log
from .mlflow import router as mlflow_router
from ._openapi import document_error_responses
from ._ratelimit import LoginLimiter
from ._routes_alerts import router as alerts_router
from ._routes_audit import router as audit_router
from ._routes_data import router as data_router
from ._routes_deployments import router as deployments_router
from ._routes_evaluation import router as evaluation_router
from ._routes_features import router as features_router
from ._routes_governance import router as governance_router
from ._routes_monitors import router as monitors_router
from ._routes_predictions import router as predictions_router
from ._routes_registry import router as registry_router
from ._routes_secrets import router as secrets_router
from ._routes_stewardship import router as stewardship_router
from ._routes_timeline import router as timeline_router
from ._routes_triggers import router as triggers_router
from ._routes_tracking import router as tracking_router
from ._routes_uploads import router as uploads_router
from ._routes_validation import router as validation_router
from ._routes_webhooks import install_webhook_worker
from ._routes_webhooks import router as webhooks_router

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
]


class BodyLimitAndHeaders:
    """Refuse bodies over the limit with 413 (before reading them) and add security headers.

    A body without a content-length (``Transfer-Encoding: chunked``) is counted as it is
    read. Once it passes the limit the 413 is sent from here and the app is told the client
    went away (``http.disconnect``): raising inside ``receive`` instead would reach the app's
    body parsing, which turns any exception into its own 400 (FastAPI) or a 500 (a route
    reading ``request.stream()``), with this middleware no longer able to answer.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = refused = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _v in headers}  # the UI's pages set their own policy
                message["headers"] = headers + [h for h in _SECURITY_HEADERS if h[0] not in present]
            await send(message)

        too_large = error_response(413, "PAYLOAD_TOO_LARGE", f"request body over {self.max_bytes} bytes")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send_with_headers)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started:
                        await too_large(scope, receive, send_with_headers)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited_receive, send_with_headers)


def _preload_secret_values(services: Services) -> None:
    """Teach the log redactor every stored secret now; it follows later changes by any
    process on its own (see governance/_redaction.py)."""
    try:
        services.redactor.refresh(force=True)
    except StewardError as exc:  # the store is unreachable at start: the redactor retries when logging
        log.info("secret values not preloaded for log redaction: %s", exc.message)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the Steward server application.

    Args:
        settings: configuration (default: from ``STEWARD_*``).
        services: prebuilt services (tests may share them); built from settings otherwise.
    """
    settings = settings or Settings()
    built = services or build_services(settings)
    auth_enabled = settings.auth_required()
    if auth_enabled and built.settings.auth != "on":
        # "auto" resolved to on (PostgreSQL): services see team mode (separation of duties)
        settings = settings.model_copy(update={"auth": "on"})
        built = replace(built, settings=built.settings.model_copy(update={"auth": "on"}))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        remove_redaction = install_redaction(built.redactor)  # secret values never reach the logs
        _preload_secret_values(built)
        try:
            # the audit head, signed outside the audit table, on a schedule and on shutdown
            async with audit_checkpoints(built, settings.audit_checkpoint_interval), monitor_runner(built, settings.monitor_interval), \
                    trigger_runner(built, settings.monitor_interval):
                try:
                    yield
                finally:
                    # refusals still being counted are audited before the last checkpoint
                    await run_in_threadpool(record_bursts, built, _app.state.refusal_bursts.drain())
        finally:
            remove_redaction()
        if services is None:
            built.close()

    app = FastAPI(
        title="Steward",
        version=__version__,
        description="Tracking, data, registry and governance API of Steward.",
        lifespan=lifespan,
        # the one authorisation check of every route (see _auth.py and core/permissions.py)
        dependencies=[Depends(authorize)],
    )
    app.state.services = built
    app.state.settings = settings
    app.state.default_actor = default_actor(settings)
    app.state.auth_enabled = auth_enabled
    install_error_handlers(app)
    app.include_router(tracking_router)
    app.include_router(mlflow_router)
    app.include_router(data_router)
    app.include_router(uploads_router)
    app.include_router(validation_router)
    app.include_router(registry_router)
    app.include_router(timeline_router)
    app.include_router(evaluation_router)
    app.include_router(governance_router)
    app.include_router(audit_router)
    app.include_router(secrets_router)
    app.include_router(predictions_router)
    app.include_router(deployments_router)
    app.include_router(stewardship_router)
    app.include_router(alerts_router)
    app.include_router(monitors_router)
    app.include_router(features_router)
    app.include_router(triggers_router)
    app.include_router(webhooks_router)
    install_webhook_worker(app, built)  # delivers registry and deployment events while the server runs
    document_error_responses(app)
    # counted in the database: replicas behind one address share the count
    app.state.auth_limiter = LoginLimiter(settings.auth_max_failures, settings.auth_failure_window, store=built.auth_failures())
    # 429s and credential-less 401s: one audit entry per (address, user) and window
    app.state.refusal_bursts = RefusalBursts(settings.auth_failure_window)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="The store is reachable and migrations are current")
    def readyz(request: Request) -> Response:
        svc: Services = request.app.state.services
        try:
            current = current_revision(svc.store.engine)
        except Exception:  # any driver error means "not ready"; the reason is logged, not shown
            return JSONResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)
        head = head_revision()
        if current != head:
            return JSONResponse({"status": "unavailable", "migration": current, "expected": head}, status_code=503)
        return JSONResponse({"status": "ready", "migration": current})

    # the web UI at / (after the API's routes): pages identify callers by a session cookie
    install_ui(app)
    app.state.ui_owns = owns_path
    app.add_middleware(AuthMiddleware, enabled=auth_enabled, trusted_proxies=settings.trusted_proxies)
    if settings.cors_origins:
        # outside authentication, so that browsers' preflight requests get an answer;
        # off unless origins are configured
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimitAndHeaders, max_bytes=settings.max_request_bytes)
    return app
