"""SQL implementation of the trigger store: definitions, starts, leases, and the events watched.

A start is one INSERT that loses to a concurrent one on the unique (trigger, event key):
however many runners (server replicas, ``steward triggers tick``) see the same cron tick,
dataset version or alert firing, one start row exists and one pipeline is started. The
start's audit entry is written in the same transaction, so no start goes unaudited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.errors import AlreadyExistsError, NotFoundError
from steward.tracking import AuditEvent
from steward.triggers._ports import JSON, AlertFiring, RegistryEvent, Trigger, TriggerStart

from ._audit import append_audit
from ._leases import acquire_lease, release_lease
from ._store import SqlStore
from ._tables import audit_log
from ._tables_alerts import alert_events, alert_states
from ._tables_data import dataset_versions, datasets
from ._tables_monitors import monitor_results, monitors
from ._tables_registry import model_versions, registered_models
from ._tables_triggers import trigger_leases, trigger_starts, triggers

__all__ = ["SqlTriggerStore"]

_T = triggers.c
_S = trigger_starts.c
_L = trigger_leases.c


def _trigger(row: Any) -> Trigger:  # Any: a SQLAlchemy row
    return Trigger(
        name=row.name, project=row.project, kind=row.kind, source=dict(row.source or {}), pipeline=dict(row.pipeline or {}),
        cursor=dict(row.cursor or {}), next_fire_at=None if row.next_fire_at is None else int(row.next_fire_at),
        created_at=int(row.created_at), created_by=row.created_by,
    )


def _start(row: Any) -> TriggerStart:  # Any: a SQLAlchemy row
    return TriggerStart(
        id=int(row.id), trigger=row.trigger, event_key=row.event_key, event=dict(row.event or {}),
        params=dict(row.params or {}), status=row.status, run_id=row.run_id, error=row.error,
        started_at=int(row.started_at), finished_at=None if row.finished_at is None else int(row.finished_at),
        started_by=row.started_by,
    )


class SqlTriggerStore:
    """Triggers on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def create_trigger(self, trigger: Trigger, audit: AuditEvent) -> Trigger:
        try:
            with self._store.write() as conn:
                if conn.execute(select(_T.name).where(_T.name == trigger.name)).first() is not None:
                    raise AlreadyExistsError(f"trigger {trigger.name!r} already exists", field="name")
                conn.execute(insert(triggers).values(
                    name=trigger.name, project=trigger.project, kind=trigger.kind, source=trigger.source,
                    pipeline=trigger.pipeline, cursor=trigger.cursor, next_fire_at=trigger.next_fire_at,
                    created_at=trigger.created_at, created_by=trigger.created_by,
                ))
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:  # lost a race with another process creating the same name
            raise AlreadyExistsError(f"trigger {trigger.name!r} already exists", field="name") from exc
        return self.get_trigger(trigger.name)

    def get_trigger(self, name: str) -> Trigger:
        with self._store.read() as conn:
            row = conn.execute(select(triggers).where(_T.name == name)).first()
        if row is None:
            raise NotFoundError(f"trigger {name[:63]!r} not found", field="name")
        return _trigger(row)

    def list_triggers(self, project: str | None, projects: frozenset[str] | None = None) -> list[Trigger]:
        query = select(triggers).order_by(_T.name)
        if project is not None:
            query = query.where(_T.project == project)
        if projects is not None:  # only the projects the caller may read
            query = query.where(_T.project.in_(sorted(projects)))
        with self._store.read() as conn:
            return [_trigger(r) for r in conn.execute(query)]

    def delete_trigger(self, name: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            if conn.execute(select(_T.name).where(_T.name == name).with_for_update()).first() is None:
                raise NotFoundError(f"trigger {name[:63]!r} not found", field="name")
            conn.execute(delete(triggers).where(_T.name == name))
            conn.execute(delete(trigger_starts).where(_S.trigger == name))
            conn.execute(delete(trigger_leases).where(_L.trigger == name))
            append_audit(conn, audit)

    def set_cursor(self, name: str, cursor: JSON, next_fire_at: int | None) -> None:
        with self._store.write() as conn:
            conn.execute(update(triggers).where(_T.name == name).values(cursor=cursor, next_fire_at=next_fire_at))

    def claim_start(self, start: TriggerStart, audit: AuditEvent) -> TriggerStart | None:
        values = {
            "trigger": start.trigger, "event_key": start.event_key, "event": start.event, "params": start.params,
            "status": start.status, "started_at": start.started_at, "started_by": start.started_by,
        }
        try:
            with self._store.write() as conn:
                # RETURNING, not rowcount: psycopg reports no rowcount for ON CONFLICT DO NOTHING
                stmt = self._store._upsert(trigger_starts).values(values)
                new_id = conn.execute(
                    stmt.on_conflict_do_nothing(index_elements=["trigger", "event_key"]).returning(_S.id)
                ).scalar()
                if new_id is None:
                    return None  # another runner started this event: nothing audited, nothing started
                append_audit(conn, AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, {**audit.details, "start_id": int(new_id)}))
        except sa_exc.IntegrityError:  # a concurrent insert won between our check and commit
            return None
        return TriggerStart(int(new_id), start.trigger, start.event_key, start.event, start.params, start.status,
                            started_at=start.started_at, started_by=start.started_by)

    def update_start(
        self, start_id: int, *, status: str, params: JSON | None = None, run_id: str | None = None,
        error: str | None = None, finished_at: int | None = None, audit: AuditEvent | None = None,
    ) -> TriggerStart:
        values: dict[str, object] = {"status": status, "run_id": run_id, "error": error, "finished_at": finished_at}
        if params is not None:
            values["params"] = params
        with self._store.write() as conn:
            conn.execute(update(trigger_starts).where(_S.id == start_id).values(**values))
            if audit is not None:
                append_audit(conn, audit)
            row = conn.execute(select(trigger_starts).where(_S.id == start_id)).first()
        if row is None:
            raise NotFoundError(f"trigger start {start_id} not found", field="id")
        return _start(row)

    def list_starts(self, name: str, limit: int) -> list[TriggerStart]:
        query = select(trigger_starts).where(_S.trigger == name).order_by(_S.id.desc()).limit(limit)
        with self._store.read() as conn:
            return [_start(r) for r in conn.execute(query)]

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool:
        return acquire_lease(self._store, trigger_leases, _L.trigger, name, holder, now, ttl_ms)

    def release_lease(self, name: str, holder: str) -> None:
        release_lease(self._store, trigger_leases, _L.trigger, name, holder)

    # -- the events triggers watch ---------------------------------------------------------

    def dataset_versions(self, name: str, after: int) -> list[int] | None:
        d, v = datasets.c, dataset_versions.c
        with self._store.read() as conn:
            if conn.execute(select(d.name).where(d.name == name)).first() is None:
                return None
            rows = conn.execute(select(v.version).where(v.name == name, v.version > after).order_by(v.version))
            return [int(r[0]) for r in rows]

    def model_versions(self, name: str, after: int) -> list[int] | None:
        m, v = registered_models.c, model_versions.c
        with self._store.read() as conn:
            if conn.execute(select(m.name).where(m.name == name)).first() is None:
                return None
            rows = conn.execute(select(v.version).where(v.name == name, v.version > after).order_by(v.version))
            return [int(r[0]) for r in rows]

    def registry_events(self, model: str, after_entry: int) -> list[RegistryEvent]:
        a = audit_log.c
        query = (
            select(a.entry_id, a.action, a.target, a.details)
            .where(a.entry_id > after_entry, a.action.in_(("models.approve", "models.set_alias")),
                   a.target.startswith(f"models:/{model}", autoescape=True))
            .order_by(a.entry_id)
        )
        found: list[RegistryEvent] = []
        with self._store.read() as conn:
            for entry_id, action, target, details in conn.execute(query):
                rest = target[len(f"models:/{model}"):]
                if action == "models.approve" and rest.startswith("/") and rest[1:].isdigit():
                    found.append(RegistryEvent(int(entry_id), "approved", int(rest[1:])))
                elif action == "models.set_alias" and rest.startswith("@"):
                    version = (details or {}).get("version")
                    if isinstance(version, int):
                        found.append(RegistryEvent(int(entry_id), "alias_moved", version, alias=rest[1:]))
        return found

    def last_audit_entry(self) -> int:
        with self._store.read() as conn:
            return int(conn.execute(select(func.max(audit_log.c.entry_id))).scalar() or 0)

    def alert_firings(self, rule: str, after_id: int) -> list[AlertFiring]:
        e, s = alert_events.c, alert_states.c
        with self._store.read() as conn:
            deployment = conn.execute(select(s.deployment).where(s.rule == rule)).scalar()
            rows = conn.execute(
                select(e.id, e.evidence).where(e.rule == rule, e.kind == "fired", e.id > after_id).order_by(e.id)
            ).all()
        found: list[AlertFiring] = []
        for event_id, evidence in rows:
            ev = dict(evidence or {})
            start, end = ev.get("window_start_ms"), ev.get("window_end_ms")
            found.append(AlertFiring(
                int(event_id), rule, deployment, int(start) if isinstance(start, (int, float)) else None,
                int(end) if isinstance(end, (int, float)) else None, ev,
            ))
        return found

    def monitor_firings(self, monitor: str, after_id: int) -> list[AlertFiring] | None:
        m, r = monitors.c, monitor_results.c
        with self._store.read() as conn:
            deployment = conn.execute(select(m.deployment).where(m.name == monitor)).first()
            if deployment is None:
                return None
            rows = conn.execute(
                select(r.id, r.window_start, r.window_end, r.status)
                .where(r.monitor == monitor, r.id > after_id, r.status.in_(("drift", "concept_drift")))
                .order_by(r.id)
            ).all()
        return [
            AlertFiring(int(i), monitor, deployment[0], int(start), int(end), {"status": status})
            for i, start, end, status in rows
        ]
