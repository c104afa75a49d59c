"""Evaluation records as stored with a model version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._gates import GateCheck

__all__ = ["EvaluationRecord", "GateOverride", "GateRecord"]

JSON = dict[str, Any]  # Any: JSON values


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One evaluation of ``name:version`` on one dataset version (or file).

    Attributes:
        id: assigned by the store (0 before it is stored).
        dataset_ref: ``datasets:/holdout/2``, or ``file:<path>`` for an unregistered file.
        dataset_hash: the data's content hash (registered versions only).
        report: metrics, confusion matrix, slices, fairness, stress, latency, explanation.
    """

    id: int
    name: str
    version: int
    dataset_ref: str
    dataset_hash: str | None
    task: str
    report: JSON
    created_at: int
    created_by: str

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "model": f"{self.name}:{self.version}",
            "name": self.name,
            "version": self.version,
            "dataset_ref": self.dataset_ref,
            "dataset_hash": self.dataset_hash,
            "task": self.task,
            "created_at": self.created_at,
            "created_by": self.created_by,
            **self.report,
        }


@dataclass(frozen=True, slots=True)
class GateOverride:
    """An administrator's written decision to promote despite a failed gate."""

    id: int
    gate_result_id: int
    actor: str
    reason: str
    created_at: int

    def to_dict(self) -> JSON:
        return {"id": self.id, "gate_result_id": self.gate_result_id, "actor": self.actor, "reason": self.reason, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class GateRecord:
    """The outcome of one gate run: the candidate (and champion) on one dataset version."""

    id: int
    name: str
    version: int
    dataset_ref: str
    policy: str
    policy_hash: str
    champion_version: int | None
    passed: bool
    checks: list[GateCheck]
    evaluation_id: int | None
    champion_evaluation_id: int | None
    created_at: int
    created_by: str
    overrides: list[GateOverride] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return bool(self.overrides)

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "model": f"{self.name}:{self.version}",
            "name": self.name,
            "version": self.version,
            "dataset_ref": self.dataset_ref,
            "policy": self.policy,
            "policy_hash": self.policy_hash,
            "champion_version": self.champion_version,
            "passed": self.passed,
            "overridden": self.overridden,
            "checks": [c.to_dict() for c in self.checks],
            "evaluation_id": self.evaluation_id,
            "champion_evaluation_id": self.champion_evaluation_id,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "overrides": [o.to_dict() for o in self.overrides],
        }
