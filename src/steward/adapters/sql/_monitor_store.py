"""SQL implementation of the monitor store: definitions, per-window results, runner leases.

The lease works as the rollout controller's (``_deployment_store.py``): one conditional
UPDATE renews or takes an expired lease, one INSERT that loses to a concurrent one takes
a free monitor, so exactly one runner of any number of server replicas computes a window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.errors import AlreadyExistsError, NotFoundError
from steward.monitoring._ports import Monitor, MonitorResult
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._leases import acquire_lease, release_lease
from ._store import SqlStore
from ._tables_deployments import deployment_stats
from ._tables_monitors import monitor_leases, monitor_results, monitors

__all__ = ["SqlMonitorStore"]

_M = monitors.c
_R = monitor_results.c
_L = monitor_leases.c


def _monitor(row: Any) -> Monitor:  # Any: a SQLAlchemy row
    return Monitor(
        name=row.name,
        deployment=row.deployment,
        project=row.project,
        reference=row.reference,
        window_s=int(row.window_s),
        schedule=row.schedule,
        options=dict(row.options or {}),
        next_run_at=None if row.next_run_at is None else int(row.next_run_at),
        created_at=int(row.created_at),
        created_by=row.created_by,
    )


def _result(row: Any) -> MonitorResult:  # Any: a SQLAlchemy row
    return MonitorResult(
        id=int(row.id),
        monitor=row.monitor,
        window_start=int(row.window_start),
        window_end=int(row.window_end),
        status=row.status,
        summary=dict(row.summary or {}),
        error=row.error,
        created_at=int(row.created_at),
        created_by=row.created_by,
    )


class SqlMonitorStore:
    """Monitors on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def create_monitor(self, monitor: Monitor, audit: AuditEvent) -> Monitor:
        try:
            with self._store.write() as conn:
                if conn.execute(select(_M.name).where(_M.name == monitor.name)).first() is not None:
                    raise AlreadyExistsError(f"monitor {monitor.name!r} already exists", field="name")
                conn.execute(
                    insert(monitors).values(
                        name=monitor.name, deployment=monitor.deployment, project=monitor.project,
                        reference=monitor.reference, window_s=monitor.window_s, schedule=monitor.schedule,
                        options=monitor.options, next_run_at=monitor.next_run_at, created_at=monitor.created_at,
                        created_by=monitor.created_by,
                    )
                )
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:  # lost a race with another process creating the same name
            raise AlreadyExistsError(f"monitor {monitor.name!r} already exists", field="name") from exc
        return self.get_monitor(monitor.name)

    def get_monitor(self, name: str) -> Monitor:
        with self._store.read() as conn:
            row = conn.execute(select(monitors).where(_M.name == name)).first()
        if row is None:
            raise NotFoundError(f"monitor {name[:63]!r} not found", field="name")
        return _monitor(row)

    def list_monitors(self, project: str | None, projects: frozenset[str] | None = None) -> list[Monitor]:
        query = select(monitors).order_by(_M.name)
        if project is not None:
            query = query.where(_M.project == project)
        if projects is not None:  # only the projects the caller may read
            query = query.where(_M.project.in_(sorted(projects)))
        with self._store.read() as conn:
            return [_monitor(r) for r in conn.execute(query)]

    def delete_monitor(self, name: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            if conn.execute(select(_M.name).where(_M.name == name).with_for_update()).first() is None:
                raise NotFoundError(f"monitor {name[:63]!r} not found", field="name")
            conn.execute(delete(monitors).where(_M.name == name))
            conn.execute(delete(monitor_results).where(_R.monitor == name))
            conn.execute(delete(monitor_leases).where(_L.monitor == name))
            append_audit(conn, audit)

    def due_monitors(self, now: int) -> list[Monitor]:
        """Scheduled monitors whose next run is at or before ``now``, most overdue first."""
        query = select(monitors).where(_M.next_run_at.is_not(None), _M.next_run_at <= now).order_by(_M.next_run_at)
        with self._store.read() as conn:
            return [_monitor(r) for r in conn.execute(query)]

    def set_next_run(self, name: str, next_run_at: int | None) -> None:
        with self._store.write() as conn:
            conn.execute(update(monitors).where(_M.name == name).values(next_run_at=next_run_at))

    def add_result(self, result: MonitorResult, audit: AuditEvent) -> MonitorResult:
        with self._store.write() as conn:
            if conn.execute(select(_M.name).where(_M.name == result.monitor)).first() is None:
                raise NotFoundError(f"monitor {result.monitor[:63]!r} not found", field="name")
            new_id = conn.execute(
                insert(monitor_results)
                .values(
                    monitor=result.monitor, window_start=result.window_start, window_end=result.window_end,
                    status=result.status, summary=result.summary, error=result.error,
                    created_at=result.created_at, created_by=result.created_by,
                )
                .returning(_R.id)
            ).scalar_one()
            append_audit(conn, audit)
        return MonitorResult(
            int(new_id), result.monitor, result.window_start, result.window_end, result.status,
            result.summary, result.error, result.created_at, result.created_by,
        )

    def list_results(self, name: str, limit: int) -> list[MonitorResult]:
        """The newest ``limit`` results of ``name``, newest first."""
        query = select(monitor_results).where(_R.monitor == name).order_by(_R.window_end.desc(), _R.id.desc()).limit(limit)
        with self._store.read() as conn:
            return [_result(r) for r in conn.execute(query)]

    def request_stats(self, deployment: str, start: int, end: int) -> tuple[int, int] | None:
        """Requests and errors the serving processes reported for ``deployment`` in ``[start, end)``
        (None: no report covers the window; serving stats are pruned after an hour)."""
        s = deployment_stats.c
        query = select(func.sum(s.requests), func.sum(s.errors)).where(
            s.deployment == deployment, s.window_start_ms >= start, s.window_end_ms <= end
        )
        with self._store.read() as conn:
            row = conn.execute(query).first()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1] or 0)

    def cpu_stats(self, deployment: str, start: int, end: int) -> tuple[float, int] | None:
        """Measured CPU-seconds and rows the serving processes reported for ``deployment`` in
        ``[start, end)`` (None: no report with a measurement covers the window)."""
        s = deployment_stats.c
        query = select(func.sum(s.cpu_ms), func.sum(s.rows)).where(
            s.deployment == deployment, s.window_start_ms >= start, s.window_end_ms <= end, s.rows > 0
        )
        with self._store.read() as conn:
            row = conn.execute(query).first()
        if row is None or row[1] is None or int(row[1]) <= 0:
            return None
        return float(row[0] or 0.0) / 1000.0, int(row[1])

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool:
        return acquire_lease(self._store, monitor_leases, _L.monitor, name, holder, now, ttl_ms)

    def release_lease(self, name: str, holder: str) -> None:
        release_lease(self._store, monitor_leases, _L.monitor, name, holder)
