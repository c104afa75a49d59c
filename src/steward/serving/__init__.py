"""Serving and safe rollout: the inference server, deployments, rollout control, batch scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward._lazy import lazy_dir as _lazy_dir
from steward._lazy import lazy_name as _lazy_name

from ._controller import run_controller
from ._deployments import DeploymentService, check_deployment_name
from ._ports import Deployment, DeploymentStore, HistoryEntry, PlanChange
from ._rollout_policy import ROLLOUT_POLICY_SCHEMA, parse_rollout_policy, rollout_policy_faults

if TYPE_CHECKING:
    from ._runtime import ServeTarget
    from ._scoring import ScoreSummary, score_file, score_file_dask
    from ._server import create_serving_app, resolve_target, run_server

# The inference server and batch scoring need the `serve` extra (orjson, prometheus-client):
# their names are imported on first use, so that deployments work without it.
_LAZY = {
    "ScoreSummary": "._scoring",
    "ServeTarget": "._runtime",
    "create_serving_app": "._server",
    "resolve_target": "._server",
    "run_server": "._server",
    "score_file": "._scoring",
    "score_file_dask": "._scoring",
}


def __getattr__(name: str) -> object:
    return _lazy_name(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return _lazy_dir(_LAZY, globals())


__all__: list[str] = [
    "ROLLOUT_POLICY_SCHEMA",
    "Deployment",
    "DeploymentService",
    "DeploymentStore",
    "HistoryEntry",
    "PlanChange",
    "ScoreSummary",
    "ServeTarget",
    "check_deployment_name",
    "create_serving_app",
    "parse_rollout_policy",
    "resolve_target",
    "rollout_policy_faults",
    "run_controller",
    "run_server",
    "score_file",
    "score_file_dask",
]
