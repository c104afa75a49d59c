"""What the stewardship stage needs from storage, as a protocol the SQL adapter implements."""

from __future__ import annotations

from typing import Protocol

from steward.tracking import AuditEvent

from ._types import Drill, ModelSteward, Retirement

__all__ = ["StewardshipStore"]


class StewardshipStore(Protocol):
    """Owners, retirements and drills; every write stores its audit entry in the same transaction."""

    def get_steward(self, name: str) -> ModelSteward | None: ...
    def set_steward(self, steward: ModelSteward, audit: AuditEvent) -> ModelSteward: ...
    def add_retirement(self, retirement: Retirement, audit: AuditEvent) -> Retirement: ...
    def get_retirement(self, name: str, version: int) -> Retirement | None: ...
    def add_drill(self, drill: Drill, audit: AuditEvent) -> Drill: ...
    def last_drill(self, deployment: str) -> Drill | None: ...
    def record(self, audit: AuditEvent) -> None:
        """An audit entry alone (a lifecycle stage that changes nothing else)."""
        ...
