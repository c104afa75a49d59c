"""The registry's check before any move to ``retired``: a version that takes traffic is not
retired, whichever way the transition is asked for (``steward models transition``, the REST
transitions route, MLflow's ``Archived`` stage mapping)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from steward.errors import ConflictError

if TYPE_CHECKING:
    from steward.serving import Deployment

__all__ = ["ServingRetirementGuard"]


class DeploymentLister(Protocol):
    def list_deployments(self, project: str | None, projects: frozenset[str] | None = None) -> list[Deployment]: ...


class ServingRetirementGuard:
    """Refuses to retire a version any deployment sends live or mirrored traffic to."""

    def __init__(self, deployments: DeploymentLister) -> None:
        self.deployments = deployments

    def check_retirement(self, name: str, version: int) -> None:
        """Raise :class:`~steward.errors.ConflictError` naming the deployments that serve ``name:version``."""
        label = f"{name}:{version}"
        serving = sorted(
            d.name for d in self.deployments.list_deployments(None)
            if any(v.model == label and (v.weight > 0 or v.shadow) for v in d.plan.variants)
        )
        if serving:
            raise ConflictError(
                f"{label} serves traffic on deployment {', '.join(serving)}; drain it first "
                f"(steward models retire {label} --drain moves its traffic to the champion)",
                field="version",
            )
