"""What the triggers stage needs from storage and from the pipelines stage, and its records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from steward.tracking import AuditEvent

__all__ = [
    "JSON", "KINDS", "AlertFiring", "LaunchOutcome", "PipelineLauncher", "RegistryEvent", "Trigger", "TriggerStart", "TriggerStore",
]

JSON = dict[str, Any]  # Any: JSON values
KINDS = ("cron", "dataset", "alert", "registry")


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger: what it watches and which pipeline it starts.

    Attributes:
        name: ``[a-z0-9][a-z0-9-]{0,62}``.
        project: every permission check of the trigger uses it.
        kind: ``cron``, ``dataset``, ``alert`` or ``registry``.
        source: ``schedule`` and ``timezone`` (cron), ``dataset``, ``alert`` (a rule name) or
            ``monitor`` (a monitor whose window drifts), ``model`` and ``events`` (registry).
        pipeline: ``file`` (a Python file), ``name`` (which pipeline in it, optional),
            ``params`` (fixed keyword arguments) and ``input`` (the parameter receiving the
            event's input; None: none passed).
        cursor: what the trigger has already seen (a dataset version, an alert event id, ...).
        next_fire_at: the next cron tick (epoch ms; cron only).
    """

    name: str
    project: str
    kind: str
    source: JSON
    pipeline: JSON
    cursor: JSON
    next_fire_at: int | None
    created_at: int
    created_by: str

    def to_dict(self) -> JSON:
        return {
            "name": self.name, "project": self.project, "kind": self.kind, "source": self.source,
            "pipeline": self.pipeline, "cursor": self.cursor, "next_fire_at": self.next_fire_at,
            "created_at": self.created_at, "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class TriggerStart:
    """One pipeline start of a trigger, unique per (trigger, event key).

    Attributes:
        event_key: ``cron:<tick ms>``, ``dataset:<name>:<version>``, ``alert:<rule>:<event id>``,
            ``registry:<model>:<event>:<id>`` or ``manual:<id>``.
        event: what happened (the dataset version, the alert's window, ...).
        params: the keyword arguments the pipeline was started with.
        status: ``started``, ``running``, ``finished`` or ``failed``.
        run_id: the pipeline's run, once it has one.
    """

    id: int
    trigger: str
    event_key: str
    event: JSON
    params: JSON
    status: str
    run_id: str | None = None
    error: str | None = None
    started_at: int = 0
    finished_at: int | None = None
    started_by: str = ""

    def to_dict(self) -> JSON:
        return {
            "id": self.id, "trigger": self.trigger, "event_key": self.event_key, "event": self.event,
            "params": self.params, "status": self.status, "run_id": self.run_id, "error": self.error,
            "started_at": self.started_at, "finished_at": self.finished_at, "started_by": self.started_by,
        }


@dataclass(frozen=True, slots=True)
class AlertFiring:
    """A ``fired`` event of an alert rule (or a drifted window of a monitor), with its window."""

    id: int
    rule: str
    deployment: str | None
    window_start_ms: int | None
    window_end_ms: int | None
    evidence: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """An audited registry event on a model: ``approved`` or ``alias_moved`` (by audit entry id),
    ``version_created`` (by version number)."""

    id: int
    event: str
    version: int
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class LaunchOutcome:
    """How a started pipeline ended."""

    status: str  # finished | failed
    run_id: str | None
    error: str | None = None


class PipelineLauncher(Protocol):
    """Runs a pipeline (``triggers/_launch.py``: the pipelines stage's public functions)."""

    def __call__(self, pipeline: Mapping[str, object], params: Mapping[str, object], actor: str) -> LaunchOutcome: ...


class TriggerStore(Protocol):
    """Triggers, their starts and leases, and the events they watch (``adapters/sql/_trigger_store.py``)."""

    def create_trigger(self, trigger: Trigger, audit: AuditEvent) -> Trigger: ...

    def get_trigger(self, name: str) -> Trigger: ...

    def list_triggers(self, project: str | None, projects: frozenset[str] | None = None) -> list[Trigger]: ...

    def delete_trigger(self, name: str, audit: AuditEvent) -> None: ...

    def set_cursor(self, name: str, cursor: JSON, next_fire_at: int | None) -> None: ...

    def claim_start(self, start: TriggerStart, audit: AuditEvent) -> TriggerStart | None:
        """Insert the start, audited, unless one exists for its (trigger, event key): None then."""
        ...

    def update_start(
        self, start_id: int, *, status: str, params: JSON | None = None, run_id: str | None = None,
        error: str | None = None, finished_at: int | None = None, audit: AuditEvent | None = None,
    ) -> TriggerStart: ...

    def list_starts(self, name: str, limit: int) -> list[TriggerStart]: ...

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def dataset_versions(self, name: str, after: int) -> list[int] | None:
        """Versions of dataset ``name`` above ``after``, ascending (None: no such dataset)."""
        ...

    def model_versions(self, name: str, after: int) -> list[int] | None:
        """Versions of model ``name`` above ``after``, ascending (None: no such model)."""
        ...

    def registry_events(self, model: str, after_entry: int) -> list[RegistryEvent]:
        """Approvals and alias moves of ``model`` audited after entry ``after_entry``."""
        ...

    def last_audit_entry(self) -> int: ...

    def alert_firings(self, rule: str, after_id: int) -> list[AlertFiring]: ...

    def monitor_firings(self, monitor: str, after_id: int) -> list[AlertFiring] | None:
        """Windows of ``monitor`` computed after result ``after_id`` whose status is ``drift`` or
        ``concept_drift`` (None: no such monitor)."""
        ...
