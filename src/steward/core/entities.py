"""Tracking entities as frozen dataclasses."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class RunStatus(str, enum.Enum):
    """Lifecycle of a run; only RUNNING accepts new data."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: str
    name: str
    created_at: int  # ms since epoch, UTC
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    project: str = ""  # the project it belongs to (core/permissions.py); set by the store


class Metric(NamedTuple):
    """One metric point.

    A NamedTuple rather than a frozen dataclass: it is just as immutable, and a training
    loop creates one per logged point, where a tuple costs half as much to build.
    """

    key: str
    value: float
    step: int = 0
    timestamp: int = 0  # ms since epoch, UTC


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run consumed; filled in by the data stage."""

    dataset: str
    role: str = "train"


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    user: str = ""
    note: str = ""
    lifecycle_stage: str = "active"
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)  # latest value per key
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[RunInput, ...] = ()

    @property
    def artifact_uri(self) -> str:
        return f"runs:/{self.run_id}/"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    entry_id: int
    timestamp: int
    actor: str
    action: str
    target: str
    details: dict[str, object] = field(default_factory=dict)
