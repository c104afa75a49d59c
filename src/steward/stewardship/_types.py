"""Stewardship records: who owns a model and whom alerts page, retirements, rollback drills."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["RETRAIN_ACTIONS", "Drill", "ModelSteward", "Retirement"]

# the audit actions a lifecycle run (``steward retrain``) records on its model, and the only
# ones the stewardship service records for it
RETRAIN_ACTIONS = (
    "models.retrain.start", "models.retrain.validate", "models.retrain.trained", "models.retrain.candidate",
    "models.retrain.awaiting_approval", "models.retrain.resume", "models.retrain.end",
)


@dataclass(frozen=True, slots=True)
class ModelSteward:
    """A registered model's owner (a user) and on-call contact (an address, a rota, a pager key)."""

    name: str
    owner: str
    on_call: str
    updated_at: int
    updated_by: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Retirement:
    """A retired version: how its artifacts were kept and what it served, when.

    Attributes:
        retention: ``keep`` (files stay where they are) or ``archive`` (a bundle was written).
        archive: where the archived bundle is ("" when kept).
        drained: deployments whose traffic was moved to the champion first.
        served: every stretch of time a deployment served it: deployment, variant, from_ms, to_ms.
    """

    name: str
    version: int
    retired_at: int
    retired_by: str
    retention: str
    archive: str = ""
    archive_sha256: str = ""
    drained: list[str] = field(default_factory=list)
    served: list[dict[str, object]] = field(default_factory=list)
    comment: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Drill:
    """One rehearsed rollback: the deployment switched to ``rehearsed`` and back to ``serving``.

    ``rollback_ms`` and ``restore_ms`` are how long each switch took until the serving
    process answered from the new version (or the plan change alone, with no traffic);
    ``requests`` and ``failed`` count the traffic sent meanwhile.
    """

    deployment: str
    started_at: int
    actor: str
    serving: str
    rehearsed: str
    rollback_ms: int
    restore_ms: int
    requests: int
    failed: int
    passed: bool
    id: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
