"""What the deployments service stores, and the storage it needs (implemented in ``adapters/sql``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from steward.core.traffic import TrafficPlan, Variant, VariantStats
from steward.tracking import AuditEvent

__all__ = [
    "Deployment",
    "DeploymentFeatureStore",
    "DeploymentStore",
    "HistoryEntry",
    "PlanChange",
    "deployment_from_dict",
    "history_from_dict",
    "variant_from_dict",
    "variant_to_dict",
]

JSON = dict[str, Any]  # Any: JSON values


def variant_to_dict(variant: Variant) -> JSON:
    return {"name": variant.name, "model": variant.model, "weight": variant.weight, "shadow": variant.shadow}


def variant_from_dict(data: JSON) -> Variant:
    return Variant(str(data["name"]), str(data["model"]), float(data["weight"]), bool(data.get("shadow", False)))


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named deployment: its current traffic plan and how it got there.

    Attributes:
        name: ``[a-z0-9][a-z0-9-]{0,62}``.
        project: the project its permissions are checked on (its first model's project).
        plan: the traffic plan every serving replica follows.
        mode: ``single``, ``canary``, ``ab``, ``shadow``, ``blue_green`` or ``rollout``.
        status: ``serving``, ``rolling_out`` or ``rolled_back``.
        reason: why the last change happened (an automatic rollback's evidence in one line).
        rollout: the active or last progressive rollout (policy, step, evidence), if any.
        features: ``view:feature`` references every request is completed with from the
            online feature store (empty: requests carry every input).
    """

    name: str
    project: str
    plan: TrafficPlan
    mode: str
    status: str
    reason: str
    rollout: JSON | None
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str
    features: tuple[str, ...] = ()

    def variant(self, name: str) -> Variant | None:
        """The plan's variant called ``name`` (``primary``, ``candidate``, ``shadow``, ``previous``)."""
        return next((v for v in self.plan.variants if v.name == name), None)

    def to_dict(self) -> JSON:
        return {
            "name": self.name,
            "project": self.project,
            "revision": self.plan.revision,
            "variants": [variant_to_dict(v) for v in self.plan.variants],
            "sticky_key": self.plan.sticky_key,
            "mode": self.mode,
            "status": self.status,
            "reason": self.reason,
            "rollout": _public_rollout(self.rollout),
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "features": list(self.features),
        }


def deployment_from_dict(data: JSON) -> Deployment:
    """A :class:`Deployment` from its JSON form (``Deployment.to_dict``, the REST API's answer)."""
    plan = TrafficPlan(str(data["name"]), int(data["revision"]), tuple(variant_from_dict(v) for v in data["variants"]), data.get("sticky_key"))
    return Deployment(
        str(data["name"]), str(data["project"]), plan, str(data["mode"]), str(data["status"]), str(data.get("reason") or ""),
        data.get("rollout"), int(data["created_at"]), str(data["created_by"]), int(data["updated_at"]), str(data["updated_by"]),
        tuple(str(f) for f in data.get("features") or ()),
    )


def history_from_dict(data: JSON) -> HistoryEntry:
    """A :class:`HistoryEntry` from its JSON form."""
    return HistoryEntry(
        int(data["id"]), str(data["deployment"]), int(data["revision"]), str(data["action"]), str(data["actor"]),
        str(data.get("reason") or ""), tuple(variant_from_dict(v) for v in data["variants"]), dict(data.get("details") or {}),
        int(data["created_at"]),
    )


def _public_rollout(rollout: JSON | None) -> JSON | None:
    if rollout is None:
        return None
    return {k: v for k, v in rollout.items() if k != "policy_text"}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of a deployment: who, what (the plan after it) and why."""

    id: int
    deployment: str
    revision: int
    action: str
    actor: str
    reason: str
    variants: tuple[Variant, ...]
    details: JSON
    created_at: int

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "deployment": self.deployment,
            "revision": self.revision,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "variants": [variant_to_dict(v) for v in self.variants],
            "details": self.details,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class PlanChange:
    """A new plan for a deployment, with its history entry.

    Attributes:
        action: ``create``, ``canary``, ``ab``, ``shadow``, ``switch``, ``promote``,
            ``rollback``, ``rollout.start``, ``rollout.advance``, ``rollout.promote``,
            ``rollout.rollback``.
        details: what the history and the audit trail record besides the plan (resolved
            references, evidence).
    """

    action: str
    actor: str
    reason: str
    variants: tuple[Variant, ...]
    sticky_key: str | None
    mode: str
    status: str
    rollout: JSON | None
    details: JSON = field(default_factory=dict)


class DeploymentStore(Protocol):
    """Storage of deployments, their history, stats reports and controller leases."""

    def create_deployment(self, name: str, project: str, change: PlanChange, now: int, audit: AuditEvent) -> Deployment: ...

    def get_deployment(self, name: str) -> Deployment: ...

    def list_deployments(self, project: str | None, projects: frozenset[str] | None = None) -> list[Deployment]: ...

    def delete_deployment(self, name: str, actor: str, reason: str, now: int, audit: AuditEvent) -> None: ...

    def change_deployment(
        self, name: str, expected_revision: int, change: PlanChange, now: int, audit: AuditEvent, *, lease_holder: str | None = None
    ) -> Deployment:
        """Apply ``change`` if the plan is still at ``expected_revision`` (and, for a
        controller, ``lease_holder`` still holds the lease); else ConflictError."""
        ...

    def list_history(self, name: str, limit: int) -> list[HistoryEntry]: ...

    def record_stats(self, stats: Sequence[VariantStats]) -> None: ...

    def stats_since(self, name: str, revision: int, since_ms: int) -> list[VariantStats]: ...

    def prune_stats(self, name: str, revision: int, before_ms: int | None) -> int: ...

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def deployment_project(self, name: str) -> str | None: ...


class DeploymentFeatureStore(Protocol):
    """The features each deployment's requests are completed with (``adapters/sql/_serving_features_store.py``)."""

    def get_features(self, deployment: str) -> list[str]: ...

    def features_of(self, deployments: Sequence[str]) -> dict[str, list[str]]: ...

    def set_features(self, deployment: str, features: Sequence[str], now: int, actor: str, audit: AuditEvent | None) -> None: ...
