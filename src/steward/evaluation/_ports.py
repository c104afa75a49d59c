"""What the evaluation stage needs from storage and from the rest of Steward."""

from __future__ import annotations

from typing import Protocol

import polars as pl

from steward.core import AuditEntry
from steward.data import DatasetVersion
from steward.governance import User
from steward.tracking import AuditEvent

from ._types import EvaluationRecord, GateOverride, GateRecord

__all__ = ["AuditReader", "DataReader", "EvaluationStore", "UserDirectory"]


class EvaluationStore(Protocol):
    """Evaluation reports, gate outcomes and overrides; each mutation audited in its transaction."""

    def add_evaluation(self, record: EvaluationRecord, audit: AuditEvent) -> EvaluationRecord: ...
    def get_evaluation(self, evaluation_id: int) -> EvaluationRecord: ...
    def list_evaluations(self, name: str, version: int | None, limit: int) -> list[EvaluationRecord]: ...
    def add_gate_result(self, record: GateRecord, audit: AuditEvent) -> GateRecord: ...
    def list_gate_results(self, name: str, version: int | None, limit: int) -> list[GateRecord]: ...
    def latest_gate_result(self, name: str, version: int) -> GateRecord | None: ...
    def add_override(self, gate_result_id: int, actor: str, reason: str, now: int, audit: AuditEvent) -> GateOverride: ...


class UserDirectory(Protocol):
    """Who is an administrator (the governance service)."""

    def get_user(self, name: str) -> User: ...


class AuditReader(Protocol):
    """The audit trail, for a version's history of state changes."""

    def list_audit(self, *, target: str | None = None, since: int | None = None, limit: int = 1000) -> list[AuditEntry]: ...


class DataReader(Protocol):
    """The data stage's reads (:class:`steward.data.DataService`)."""

    def get(self, ref: str) -> DatasetVersion: ...
    def load(self, ref: str | DatasetVersion) -> pl.DataFrame: ...
    def load_source(self, source: object) -> pl.DataFrame: ...
