"""SQL reads behind a model's timeline (:mod:`steward.registry._timeline`): which audit
targets concern a model, then those entries in chain order."""

from __future__ import annotations

from sqlalchemy import Connection, or_, select

from steward.registry._ports import TimelineEntry

from ._store import SqlStore
from ._tables import audit_log
from ._tables_alerts import alert_states
from ._tables_deployments import deployment_history, deployments
from ._tables_evaluation import gate_results
from ._tables_registry import model_versions, registered_models

__all__ = ["SqlTimelineStore"]


def _serves(variants: object, name: str) -> bool:
    """Whether a stored variant list routes to a version of ``name`` (``fraud:3``)."""
    if not isinstance(variants, list):
        return False
    return any(isinstance(v, dict) and str(v.get("model", "")).partition(":")[0] == name for v in variants)


def _deployments_of(conn: Connection, name: str) -> list[str]:
    # the history outlives a deleted deployment, and a rollout's every step is in it
    rows = conn.execute(select(deployment_history.c.deployment, deployment_history.c.variants)).all()
    found = {str(r.deployment) for r in rows if _serves(r.variants, name)}
    current = conn.execute(select(deployments.c.name, deployments.c.variants)).all()
    found.update(str(r.name) for r in current if _serves(r.variants, name))
    return sorted(found)


class SqlTimelineStore:
    """:class:`~steward.registry._ports.TimelineStore` over the metadata store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def model_exists(self, name: str) -> bool:
        with self._store.read() as conn:
            return conn.execute(select(registered_models.c.name).where(registered_models.c.name == name)).first() is not None

    def version_runs(self, name: str) -> dict[str, list[int]]:
        mv = model_versions.c
        found: dict[str, list[int]] = {}
        with self._store.read() as conn:
            for r in conn.execute(select(mv.run_id, mv.version).where(mv.name == name).order_by(mv.version)).all():
                found.setdefault(str(r.run_id), []).append(int(r.version))
        return found

    def timeline_entries(self, name: str, *, after: int, limit: int) -> list[TimelineEntry]:
        a = audit_log.c
        with self._store.read() as conn:
            runs = [f"runs:/{r}" for r in self.version_runs(name)]
            served = _deployments_of(conn, name)
            rules = [str(r) for r in conn.execute(select(alert_states.c.rule).where(alert_states.c.deployment.in_(served))).scalars()]
            targets = [*runs, *(f"deployments:/{d}" for d in served), *(f"alerts:/{r}" for r in rules)]
            query = (
                select(a.entry_id, a.timestamp, a.actor, a.action, a.target, a.details)
                .where(
                    a.entry_id > after,
                    or_(
                        a.target == f"models:/{name}",
                        a.target.startswith(f"models:/{name}/", autoescape=True),
                        a.target.startswith(f"models:/{name}@", autoescape=True),
                        a.target.in_(targets),
                    ),
                )
                .order_by(a.entry_id)
                .limit(limit)
            )
            rows = conn.execute(query).all()
            entries = [
                TimelineEntry(
                    int(r.entry_id), int(r.timestamp), str(r.actor), str(r.action), str(r.target),
                    r.details if isinstance(r.details, dict) else {"_": r.details},
                )
                for r in rows
            ]
            return _with_gate_checks(conn, entries)


def _with_gate_checks(conn: Connection, entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """A gate's entry holds its result id; the timeline shows why: the champion it was held
    against and the checks that failed, from the stored result."""
    ids = {int(v) for e in entries if e.action == "models.gate" and isinstance(v := e.details.get("gate_result_id"), int)}
    if not ids:
        return entries
    g = gate_results.c
    found = {int(r.id): r for r in conn.execute(select(g.id, g.champion_version, g.checks).where(g.id.in_(ids))).all()}
    out = []
    for e in entries:
        rid = e.details.get("gate_result_id")
        result = found.get(rid) if e.action == "models.gate" and isinstance(rid, int) else None
        if result is not None:
            checks = result.checks if isinstance(result.checks, list) else []
            failed = [c for c in checks if isinstance(c, dict) and not c.get("passed")]
            e = TimelineEntry(
                e.entry_id, e.timestamp, e.actor, e.action, e.target,
                {**e.details, "champion_version": result.champion_version, "failed_checks": failed},
            )
        out.append(e)
    return out
