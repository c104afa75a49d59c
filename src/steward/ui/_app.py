"""Routing of the UI and its installation on the server's application."""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.types import Scope

from . import _pages as p
from . import _pages_data as pd
from . import _pages_deploy as pdep
from . import _pages_models as pm
from . import _pages_tokens as pt
from ._access import Caller
from ._session import SessionSigner, session_key
from ._web import UiState, page

__all__ = ["install_ui", "owns_path"]

# the first path segments the UI serves; the API keeps everything else (/api, /docs, ...)
_SEGMENTS = frozenset({"login", "logout", "experiments", "runs", "compare", "audit", "admin", "static"})
# the lifecycle pages (_pages_models, _pages_deploy, _pages_data)
_SEGMENTS |= {"models", "deployments", "monitors", "datasets"}
_SEGMENTS |= {"tokens"}  # _pages_tokens


def owns_path(path: str) -> bool:
    """Whether ``path`` is a UI page (identified by the session cookie, not a token)."""
    if path == "/":
        return True
    return path.split("/", 2)[1] in _SEGMENTS


def _static_dir() -> Path:
    return Path(str(resources.files("steward.ui") / "static"))


def _plotly_js() -> Path | None:
    """plotly.js of the installed ``plotly`` package, found without importing it (slow)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None  # charts degrade to the tables beside them
    found = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return found if found.is_file() else None


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "plotly.min.js":
        found = _plotly_js()
    else:
        candidate = _static_dir() / name
        found = candidate if name in {"ui.css", "ui.js", "lifecycle.js"} and candidate.is_file() else None
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(found, media_type=media, headers={"cache-control": "public, max-age=3600"})


def _with(handler: Any, *names: str) -> Any:  # Any: a page handler taking path parameters
    def bound(caller: Caller) -> Response:
        params = caller.request.path_params
        result: Response = handler(caller, *(str(params[n]) for n in names))
        return result

    return bound


class _UiMount(Mount):
    """A mount that matches UI paths only: the API's 404s and 405s stay the API's."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not owns_path(scope.get("path", "")):
            return Match.NONE, {}
        return super().matches(scope)


def _ui_app() -> Starlette:
    routes = [
        Route("/", page(p.experiments_page), methods=["GET"]),
        Route("/login", page(p.login_page, public=True), methods=["GET"]),
        Route("/login", page(p.login_submit, public=True), methods=["POST"]),
        Route("/logout", page(p.logout_submit, public=True), methods=["POST"]),
        Route("/experiments", page(p.experiments_page), methods=["GET"]),
        Route("/experiments/{experiment_id}", page(_with(p.runs_page, "experiment_id")), methods=["GET"]),
        Route("/experiments/{experiment_id}/runs/{run_id}", page(_with(p.run_in_experiment, "experiment_id", "run_id")), methods=["GET"]),
        Route("/runs/{run_id}", page(_with(p.run_page, "run_id")), methods=["GET"]),
        Route("/runs/{run_id}/artifacts/{path:path}", page(_with(p.artifact_download, "run_id", "path")), methods=["GET"]),
        Route("/runs/{run_id}/delete", page(_with(p.delete_run, "run_id")), methods=["POST"]),
        Route("/runs/{run_id}/restore", page(_with(p.restore_run, "run_id")), methods=["POST"]),
        Route("/compare", page(p.compare_page), methods=["GET"]),
        Route("/audit", page(p.audit_page), methods=["GET"]),
        Route("/admin", page(p.admin_page), methods=["GET"]),
        Route("/admin/roles/grant", page(p.grant_role), methods=["POST"]),
        Route("/admin/roles/revoke", page(p.revoke_role), methods=["POST"]),
        Route("/admin/users/disable", page(p.disable_user), methods=["POST"]),
        Route("/admin/tokens/revoke", page(p.revoke_token), methods=["POST"]),
        Route("/tokens", page(pt.tokens_page), methods=["GET"]),
        Route("/tokens/create", page(pt.create_token), methods=["POST"]),
        Route("/tokens/revoke", page(pt.revoke_token), methods=["POST"]),
        # models, deployments, monitors, datasets (issue 14)
        Route("/models", page(pm.models_page), methods=["GET"]),
        Route("/models/{name}", page(_with(pm.model_page, "name")), methods=["GET"]),
        Route("/models/{name}/versions/{version}/approve", page(_with(pm.approve_version, "name", "version")), methods=["POST"]),
        Route("/models/{name}/versions/{version}/transition", page(_with(pm.transition_version, "name", "version")), methods=["POST"]),
        Route("/models/{name}/aliases", page(_with(pm.set_alias, "name")), methods=["POST"]),
        Route("/deployments", page(pdep.deployments_page), methods=["GET"]),
        Route("/deployments/{name}", page(_with(pdep.deployment_page, "name")), methods=["GET"]),
        Route("/deployments/{name}/promote", page(_with(pdep.promote_deployment, "name")), methods=["POST"]),
        Route("/deployments/{name}/rollback", page(_with(pdep.rollback_deployment, "name")), methods=["POST"]),
        Route("/monitors", page(pdep.monitors_page), methods=["GET"]),
        Route("/monitors/{name}", page(_with(pdep.monitor_page, "name")), methods=["GET"]),
        Route("/datasets", page(pd.datasets_page), methods=["GET"]),
        Route("/datasets/{name}", page(_with(pd.dataset_page, "name")), methods=["GET"]),
        Route("/datasets/{name}/diff", page(_with(pd.dataset_diff_page, "name")), methods=["GET"]),
        Route("/static/{name}", _static, methods=["GET"]),
        Route("/{rest:path}", page(p.not_found), methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)


def install_ui(app: FastAPI) -> None:
    """Serve the UI from ``app``: ``GET /`` (in the permission table, public: the page itself
    asks for a login) and a mount for the other UI paths. Call after the API's routers."""
    settings = app.state.settings
    app.state.ui = UiState(SessionSigner(session_key(settings)))
    ui = _ui_app()
    ui.state = app.state  # the pages read services, settings and auth from the server's state
    home = page(p.experiments_page)

    async def index(request: Request) -> Response:
        return await home(request)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.router.routes.append(_UiMount("", app=ui))
