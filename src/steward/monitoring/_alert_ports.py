"""What alerting needs from storage, and the records it keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from steward.core.alerts import AlertEvent, AlertRule, AlertState
from steward.tracking import AuditEvent

__all__ = ["AlertRecord", "AlertStore", "StoredEvent"]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A rule's stored state, with what the rule said when it was last evaluated."""

    rule: str
    metric: str
    severity: str
    deployment: str | None
    state: AlertState
    updated_at: int

    def to_dict(self) -> dict[str, object]:
        s = self.state
        return {
            "rule": self.rule, "metric": self.metric, "severity": self.severity, "deployment": self.deployment,
            "status": s.status.value, "since_ms": s.since_ms, "last_ms": s.last_ms, "value": s.value, "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One line of a rule's history (``kind``: pending, fired, resolved, insufficient_sample,
    notified, notify_failed, action.rollback, action.retrain)."""

    id: int
    rule: str
    kind: str
    at_ms: int
    evidence: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "rule": self.rule, "kind": self.kind, "at_ms": self.at_ms, "evidence": self.evidence}


class AlertStore(Protocol):
    def get_alert(self, rule: str) -> AlertRecord | None: ...

    def list_alerts(self) -> list[AlertRecord]: ...

    def save_alert(self, rule: AlertRule, state: AlertState, events: Sequence[AlertEvent], audits: Sequence[AuditEvent], now: int) -> None:
        """Store the new state and its events, and audit, in one transaction."""

    def add_event(self, rule: str, kind: str, at_ms: int, evidence: dict[str, object], audit: AuditEvent | None, now: int) -> None:
        """Record a notification or action outcome (audited when ``audit`` is given)."""

    def list_events(self, rule: str, *, max_results: int = 100) -> list[StoredEvent]:
        """Newest first."""
