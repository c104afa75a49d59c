"""SQL implementation of the alert store: one row of state per rule, and its history.

A rule's new state, the events that led to it and their audit entries are written in one
transaction, so a firing is never stored without its audit trail (nor the reverse).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from steward.core.alerts import AlertEvent, AlertRule, AlertState, AlertStatus
from steward.monitoring._alert_ports import AlertRecord, StoredEvent
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_alerts import alert_events, alert_states

__all__ = ["SqlAlertStore"]

_A = alert_states.c
_E = alert_events.c


def _record(row: Row[tuple[object, ...]]) -> AlertRecord:
    m = row._mapping
    value = m["value"]
    state = AlertState(AlertStatus(str(m["status"])), m["since_ms"], m["last_ms"], None if value is None else float(value))
    return AlertRecord(str(m["rule"]), str(m["metric"]), str(m["severity"]), m["deployment"], state, int(m["updated_at"]))


def _add_event(conn: Connection, rule: str, kind: str, at_ms: int, evidence: dict[str, object], now: int) -> None:
    conn.execute(insert(alert_events).values(rule=rule, kind=kind, at_ms=at_ms, evidence=evidence, created_at=now))


class SqlAlertStore:
    """Alert states on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_alert(self, rule: str) -> AlertRecord | None:
        with self._store.read() as conn:
            row = conn.execute(select(alert_states).where(_A.rule == rule)).first()
        return None if row is None else _record(row)

    def list_alerts(self) -> list[AlertRecord]:
        with self._store.read() as conn:
            return [_record(r) for r in conn.execute(select(alert_states).order_by(_A.rule))]

    def save_alert(self, rule: AlertRule, state: AlertState, events: Sequence[AlertEvent], audits: Sequence[AuditEvent], now: int) -> None:
        values = {
            "metric": rule.metric, "severity": rule.severity, "deployment": rule.deployment, "status": state.status.value,
            "since_ms": state.since_ms, "last_ms": state.last_ms, "value": state.value, "updated_at": now,
        }
        with self._store.write() as conn:
            if conn.execute(select(_A.rule).where(_A.rule == rule.name)).first() is None:
                conn.execute(insert(alert_states).values(rule=rule.name, **values))
            else:
                conn.execute(update(alert_states).where(_A.rule == rule.name).values(**values))
            for event in events:
                _add_event(conn, rule.name, event.kind.value, event.at_ms, event.evidence, now)
            for audit in audits:
                append_audit(conn, audit)

    def add_event(self, rule: str, kind: str, at_ms: int, evidence: dict[str, object], audit: AuditEvent | None, now: int) -> None:
        with self._store.write() as conn:
            _add_event(conn, rule, kind, at_ms, evidence, now)
            if audit is not None:
                append_audit(conn, audit)

    def list_events(self, rule: str, *, max_results: int = 100) -> list[StoredEvent]:
        query = select(alert_events).where(_E.rule == rule).order_by(_E.id.desc()).limit(max_results)
        with self._store.read() as conn:
            return [StoredEvent(int(r.id), str(r.rule), str(r.kind), int(r.at_ms), dict(r.evidence)) for r in conn.execute(query)]
