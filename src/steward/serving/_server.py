"""Run the inference server: uvicorn with N worker processes.

uvicorn's supervisor replaces a worker that dies (even by SIGKILL) and drains in-flight
requests on SIGTERM/SIGINT before the workers exit. Each worker builds its own
application from a picklable factory, loads the model itself and, with more than one
worker, writes its metrics where every worker's ``/metrics`` can sum them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from functools import partial

from steward.errors import InvalidInputError
from steward.settings import Settings

from ._app import ServingApp
from ._models import load_served
from ._runtime import SERVING_ACTOR, Runtime, ServeTarget

__all__ = ["create_serving_app", "resolve_target", "run_server"]


def create_serving_app(target: ServeTarget, settings: Settings) -> ServingApp:
    """The ASGI application of one worker (uvicorn calls it in each worker process)."""
    return ServingApp(Runtime(target, settings), settings)


def resolve_target(target: ServeTarget, settings: Settings) -> ServeTarget:
    """Check the target before any worker starts, pinning an alias to its current version.

    Every worker then loads the same version even if the alias moves during start-up.

    Raises:
        NotFoundError: no such model, version, alias or deployment.
        ConflictError: the version is retired.
        PermissionDeniedError: the model's files need ``trusted`` (pickle).
        InvalidInputError: both or neither of a model and a deployment; a model without signature.
    """
    if (target.model is None) == (target.deployment is None):
        raise InvalidInputError("serve either a model reference or --deployment NAME", field="ref")
    if settings.is_remote():
        return target
    from steward.wiring import build_services

    services = build_services(settings)
    try:
        if target.deployment is not None:
            services.deployments(SERVING_ACTOR).get_plan(target.deployment)
            return target
        assert target.model is not None
        registry = services.registry(SERVING_ACTOR)
        found = registry.resolve_for_use(target.model)
        registry.check_deployable(found)
        pinned = f"{found.name}:{found.version}"
        # load it once here: a model that needs --trusted or has no signature is refused in
        # one line, instead of every worker failing its start-up
        load_served(registry.load(pinned, trusted=target.trusted))
        return ServeTarget(model=pinned, trusted=target.trusted)
    finally:
        services.close()


def run_server(target: ServeTarget, settings: Settings, *, host: str, port: int, workers: int = 1, server: str = "uvicorn") -> None:
    """Serve until SIGINT/SIGTERM (blocking); in-flight requests are answered before exit.

    Args:
        server: ``uvicorn`` (default) or ``granian`` (needs the ``granian`` package).
    """
    metrics_dir = None
    if workers > 1 or server == "granian":
        # prometheus-client's multiprocess mode is chosen by this variable when the
        # workers import it; the folder is this server's alone and removed at exit
        metrics_dir = tempfile.mkdtemp(prefix="steward-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        if server == "granian":
            _run_granian(target, settings, host=host, port=port, workers=workers)
        else:
            _run_uvicorn(target, settings, host=host, port=port, workers=workers)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_granian(target: ServeTarget, settings: Settings, *, host: str, port: int, workers: int) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError:
        raise InvalidInputError("--server granian needs granian: pip install granian", field="server") from None
    granian = Granian(
        "steward.serving._server:create_serving_app", address=host, port=port, interface=Interfaces.ASGI,
        workers=workers, respawn_failed_workers=True, websockets=False, backlog=4096, log_access=False,
    )
    # each worker builds its app from this picklable loader instead of importing the target string
    granian.serve(target_loader=partial(create_serving_app, target, settings), wrap_loader=False)


def _run_uvicorn(target: ServeTarget, settings: Settings, *, host: str, port: int, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess
    config = uvicorn.Config(
        partial(create_serving_app, target, settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=30,
        backlog=4096,
    )
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
