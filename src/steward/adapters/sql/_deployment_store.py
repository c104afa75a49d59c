"""SQL implementation of the deployment store: plans, history, stats reports, controller leases.

A plan change is one transaction: the row is locked (FOR UPDATE on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), its revision compared with the one the
change was computed from, and for a controller the lease checked, so that two actors
can never both apply a change computed from the same plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.core.traffic import TrafficPlan, VariantStats
from steward.errors import AlreadyExistsError, ConflictError, NotFoundError
from steward.serving._ports import (
    Deployment,
    HistoryEntry,
    PlanChange,
    variant_from_dict,
    variant_to_dict,
)
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._leases import acquire_lease, release_lease
from ._store import SqlStore
from ._tables_deployments import (
    deployment_history,
    deployment_leases,
    deployment_stats,
    deployments,
)

__all__ = ["SqlDeploymentStore"]

_D = deployments.c
_L = deployment_leases.c
_S = deployment_stats.c


class SqlDeploymentStore:
    """Deployments on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- deployments --------------------------------------------------------------------

    def create_deployment(self, name: str, project: str, change: PlanChange, now: int, audit: AuditEvent) -> Deployment:
        try:
            with self._store.write() as conn:
                if conn.execute(select(_D.name).where(_D.name == name)).first() is not None:
                    raise AlreadyExistsError(f"deployment {name!r} already exists", field="name")
                conn.execute(
                    insert(deployments).values(
                        name=name, project=project, revision=1, created_at=now, created_by=change.actor, **_plan_values(change, now)
                    )
                )
                _add_history(conn, name, 1, change, now)
                append_audit(conn, _with(audit, revision=1, **_audit_details(change)))
        except sa_exc.IntegrityError as exc:  # lost a race with another process creating the same name
            raise AlreadyExistsError(f"deployment {name!r} already exists", field="name") from exc
        return self.get_deployment(name)

    def get_deployment(self, name: str) -> Deployment:
        with self._store.read() as conn:
            row = conn.execute(select(deployments).where(_D.name == name)).first()
        if row is None:
            raise NotFoundError(f"deployment {name[:63]!r} not found", field="name")
        return _deployment(row)

    def list_deployments(self, project: str | None, projects: frozenset[str] | None = None) -> list[Deployment]:
        query = select(deployments).order_by(_D.name)
        if project is not None:
            query = query.where(_D.project == project)
        if projects is not None:  # only the projects the caller may read
            query = query.where(_D.project.in_(sorted(projects)))
        with self._store.read() as conn:
            return [_deployment(r) for r in conn.execute(query)]

    def deployment_project(self, name: str) -> str | None:
        """The project of deployment ``name`` (None when there is none): the permission check's resolver."""
        with self._store.read() as conn:
            row = conn.execute(select(_D.project).where(_D.name == name)).first()
        return None if row is None else str(row.project)

    def delete_deployment(self, name: str, actor: str, reason: str, now: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            row = conn.execute(select(_D.revision).where(_D.name == name).with_for_update()).first()
            if row is None:
                raise NotFoundError(f"deployment {name[:63]!r} not found", field="name")
            conn.execute(delete(deployments).where(_D.name == name))
            conn.execute(delete(deployment_leases).where(_L.deployment == name))
            conn.execute(delete(deployment_stats).where(_S.deployment == name))
            change = PlanChange("delete", actor, reason, (), None, "", "deleted", None)
            _add_history(conn, name, int(row.revision), change, now)  # the history outlives the deployment
            append_audit(conn, audit)

    def change_deployment(
        self, name: str, expected_revision: int, change: PlanChange, now: int, audit: AuditEvent, *, lease_holder: str | None = None
    ) -> Deployment:
        with self._store.write() as conn:
            row = conn.execute(select(_D.revision).where(_D.name == name).with_for_update()).first()
            if row is None:
                raise NotFoundError(f"deployment {name[:63]!r} not found", field="name")
            if int(row.revision) != expected_revision:
                raise ConflictError(
                    f"deployment {name!r} changed meanwhile (revision {row.revision}, expected {expected_revision}); try again",
                    field="revision",
                )
            if lease_holder is not None:
                lease = conn.execute(select(_L.holder, _L.expires_at).where(_L.deployment == name)).first()
                if lease is None or lease.holder != lease_holder or int(lease.expires_at) <= now:
                    raise ConflictError(f"the controller lease of {name!r} is no longer held by {lease_holder}", field="lease")
            revision = expected_revision + 1
            conn.execute(update(deployments).where(_D.name == name).values(revision=revision, **_plan_values(change, now)))
            _add_history(conn, name, revision, change, now)
            append_audit(conn, _with(audit, revision=revision, **_audit_details(change)))
            # windows of earlier revisions were evidence for decisions already recorded
            conn.execute(delete(deployment_stats).where(_S.deployment == name, _S.revision < expected_revision))
        return self.get_deployment(name)

    def list_history(self, name: str, limit: int) -> list[HistoryEntry]:
        h = deployment_history.c
        query = select(deployment_history).where(h.deployment == name).order_by(h.id.desc()).limit(limit)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return [
            HistoryEntry(
                int(r.id), r.deployment, int(r.revision), r.action, r.actor, r.reason,
                tuple(variant_from_dict(v) for v in r.variants or []), dict(r.details or {}), int(r.created_at),
            )
            for r in rows
        ]

    # -- stats reports ------------------------------------------------------------------

    def record_stats(self, stats: Sequence[VariantStats]) -> None:
        if not stats:
            return
        rows = [
            {
                "deployment": s.deployment,
                "revision": s.revision,
                "variant": s.variant,
                "model": s.model,
                "window_start_ms": s.window_start_ms,
                "window_end_ms": s.window_end_ms,
                "requests": s.requests,
                "errors": s.errors,
                "latency_counts": list(s.latency_counts),
                "cpu_ms": s.cpu_ms,
                "rows": s.rows,
            }
            for s in stats
        ]
        # telemetry, not a change anyone made: not audited (a window every few seconds per
        # replica would drown the audit chain); the decisions taken on it are
        with self._store.write() as conn:
            conn.execute(insert(deployment_stats), rows)

    def stats_since(self, name: str, revision: int, since_ms: int) -> list[VariantStats]:
        query = select(deployment_stats).where(_S.deployment == name, _S.revision == revision, _S.window_end_ms >= since_ms)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return [
            VariantStats(
                r.deployment, int(r.revision), r.variant, r.model, int(r.window_start_ms), int(r.window_end_ms),
                int(r.requests), int(r.errors), tuple(int(c) for c in r.latency_counts or []),
                cpu_ms=float(r.cpu_ms or 0.0), rows=int(r.rows or 0),
            )
            for r in rows
        ]

    def prune_stats(self, name: str, revision: int, before_ms: int | None) -> int:
        """Delete the windows of earlier revisions, and (``before_ms``) of this one ending
        before that time. Returns how many went."""
        stale = _S.revision < revision
        if before_ms is not None:
            stale = stale | (_S.window_end_ms < before_ms)
        with self._store.write() as conn:
            return int(conn.execute(delete(deployment_stats).where(_S.deployment == name, stale)).rowcount or 0)

    # -- leases -------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool:
        """Take or renew the controller lease of ``name`` for ``ttl_ms`` (see ``_leases.py``)."""
        return acquire_lease(self._store, deployment_leases, _L.deployment, name, holder, now, ttl_ms)

    def release_lease(self, name: str, holder: str) -> None:
        release_lease(self._store, deployment_leases, _L.deployment, name, holder)

    def lease_holder(self, name: str, now: int) -> str | None:
        """Who holds an unexpired lease on ``name`` (None: nobody)."""
        with self._store.read() as conn:
            row = conn.execute(select(_L.holder, _L.expires_at).where(_L.deployment == name)).first()
        return None if row is None or int(row.expires_at) <= now else str(row.holder)


def _plan_values(change: PlanChange, now: int) -> dict[str, Any]:  # Any: column values
    return {
        "variants": [variant_to_dict(v) for v in change.variants],
        "sticky_key": change.sticky_key,
        "mode": change.mode,
        "status": change.status,
        "reason": change.reason,
        "rollout": change.rollout,
        "updated_at": now,
        "updated_by": change.actor,
    }


def _add_history(conn: Connection, name: str, revision: int, change: PlanChange, now: int) -> None:
    conn.execute(
        insert(deployment_history).values(
            deployment=name,
            revision=revision,
            action=change.action,
            actor=change.actor,
            reason=change.reason,
            variants=[variant_to_dict(v) for v in change.variants],
            details=change.details,
            created_at=now,
        )
    )


def _audit_details(change: PlanChange) -> dict[str, object]:
    return {"reason": change.reason, "variants": [variant_to_dict(v) for v in change.variants], **change.details}


def _with(audit: AuditEvent, **details: object) -> AuditEvent:
    return AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, {**audit.details, **details})


def _deployment(row: Any) -> Deployment:  # Any: a SQLAlchemy Row
    plan = TrafficPlan(row.name, int(row.revision), tuple(variant_from_dict(v) for v in row.variants or []), row.sticky_key)
    return Deployment(
        row.name, row.project, plan, row.mode, row.status, row.reason or "", dict(row.rollout) if row.rollout else None,
        int(row.created_at), row.created_by, int(row.updated_at), row.updated_by,
    )
