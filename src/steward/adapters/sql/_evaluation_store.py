"""SQL implementation of the evaluation store (reports, gate outcomes, overrides)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from steward.errors import NotFoundError
from steward.evaluation._gates import GateCheck
from steward.evaluation._types import EvaluationRecord, GateOverride, GateRecord
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_evaluation import evaluations, gate_overrides, gate_results

__all__ = ["SqlEvaluationStore"]


class SqlEvaluationStore:
    """Evaluation records on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_evaluation(self, record: EvaluationRecord, audit: AuditEvent) -> EvaluationRecord:
        with self._store.write() as conn:
            result = conn.execute(
                insert(evaluations).values(
                    model_name=record.name,
                    model_version=record.version,
                    dataset_ref=record.dataset_ref,
                    dataset_hash=record.dataset_hash,
                    task=record.task,
                    report=record.report,
                    created_at=record.created_at,
                    created_by=record.created_by,
                )
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            append_audit(conn, _with(audit, evaluation_id=new_id, dataset=record.dataset_ref))
        return _replace_id(record, new_id)

    def get_evaluation(self, evaluation_id: int) -> EvaluationRecord:
        with self._store.read() as conn:
            row = conn.execute(select(evaluations).where(evaluations.c.id == evaluation_id)).first()
        if row is None:
            raise NotFoundError(f"evaluation {evaluation_id} not found", field="evaluation_id")
        return _evaluation(row)

    def list_evaluations(self, name: str, version: int | None, limit: int) -> list[EvaluationRecord]:
        query = select(evaluations).where(evaluations.c.model_name == name)
        if version is not None:
            query = query.where(evaluations.c.model_version == version)
        with self._store.read() as conn:
            return [_evaluation(r) for r in conn.execute(query.order_by(evaluations.c.id.desc()).limit(limit))]

    def add_gate_result(self, record: GateRecord, audit: AuditEvent) -> GateRecord:
        with self._store.write() as conn:
            result = conn.execute(
                insert(gate_results).values(
                    model_name=record.name,
                    model_version=record.version,
                    dataset_ref=record.dataset_ref,
                    policy=record.policy,
                    policy_hash=record.policy_hash,
                    champion_version=record.champion_version,
                    passed=record.passed,
                    checks=[c.to_dict() for c in record.checks],
                    evaluation_id=record.evaluation_id,
                    champion_evaluation_id=record.champion_evaluation_id,
                    created_at=record.created_at,
                    created_by=record.created_by,
                )
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            append_audit(conn, _with(audit, gate_result_id=new_id, passed=record.passed, dataset=record.dataset_ref))
        return GateRecord(
            new_id, record.name, record.version, record.dataset_ref, record.policy, record.policy_hash, record.champion_version,
            record.passed, record.checks, record.evaluation_id, record.champion_evaluation_id, record.created_at, record.created_by,
        )

    def list_gate_results(self, name: str, version: int | None, limit: int) -> list[GateRecord]:
        query = select(gate_results).where(gate_results.c.model_name == name)
        if version is not None:
            query = query.where(gate_results.c.model_version == version)
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(gate_results.c.id.desc()).limit(limit)).all()
            return self._gates(conn, rows)

    def latest_gate_result(self, name: str, version: int) -> GateRecord | None:
        found = self.list_gate_results(name, version, 1)
        return found[0] if found else None

    def add_override(self, gate_result_id: int, actor: str, reason: str, now: int, audit: AuditEvent) -> GateOverride:
        with self._store.write() as conn:
            gate = conn.execute(select(gate_results).where(gate_results.c.id == gate_result_id)).first()
            if gate is None:
                raise NotFoundError(f"gate result {gate_result_id} not found", field="gate_result_id")
            result = conn.execute(
                insert(gate_overrides).values(
                    gate_result_id=gate_result_id,
                    model_name=gate.model_name,
                    model_version=gate.model_version,
                    actor=actor,
                    reason=reason,
                    created_at=now,
                )
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            append_audit(conn, _with(audit, gate_result_id=gate_result_id, override_id=new_id, reason=reason))
        return GateOverride(new_id, gate_result_id, actor, reason, now)

    @staticmethod
    def _gates(conn: Connection, rows: Any) -> list[GateRecord]:  # Any: SQLAlchemy rows
        ids = [r.id for r in rows]
        overrides: dict[int, list[GateOverride]] = {i: [] for i in ids}
        if ids:
            o = gate_overrides.c
            for r in conn.execute(select(gate_overrides).where(o.gate_result_id.in_(ids)).order_by(o.id)):
                overrides[r.gate_result_id].append(GateOverride(r.id, r.gate_result_id, r.actor, r.reason, r.created_at))
        return [
            GateRecord(
                r.id, r.model_name, r.model_version, r.dataset_ref, r.policy, r.policy_hash, r.champion_version, bool(r.passed),
                [GateCheck.from_dict(c) for c in r.checks or []], r.evaluation_id, r.champion_evaluation_id, r.created_at,
                r.created_by, overrides[r.id],
            )
            for r in rows
        ]


def _with(audit: AuditEvent, **details: object) -> AuditEvent:
    return AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, {**audit.details, **details})


def _replace_id(record: EvaluationRecord, new_id: int) -> EvaluationRecord:
    return EvaluationRecord(
        new_id, record.name, record.version, record.dataset_ref, record.dataset_hash, record.task, record.report,
        record.created_at, record.created_by,
    )


def _evaluation(row: Any) -> EvaluationRecord:  # Any: a SQLAlchemy Row
    return EvaluationRecord(
        row.id, row.model_name, row.model_version, row.dataset_ref, row.dataset_hash, row.task, dict(row.report),
        row.created_at, row.created_by,
    )
