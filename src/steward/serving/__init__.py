"""Serving and safe rollout: the inference server, deployments, rollout control, batch scoring."""

from __future__ import annotations

from ._controller import run_controller
from ._deployments import DeploymentService, check_deployment_name
from ._ports import Deployment, DeploymentStore, HistoryEntry, PlanChange
from ._rollout_policy import ROLLOUT_POLICY_SCHEMA, parse_rollout_policy, rollout_policy_faults

__all__: list[str] = [
    "ROLLOUT_POLICY_SCHEMA",
    "Deployment",
    "DeploymentService",
    "DeploymentStore",
    "HistoryEntry",
    "PlanChange",
    "check_deployment_name",
    "parse_rollout_policy",
    "rollout_policy_faults",
    "run_controller",
]
