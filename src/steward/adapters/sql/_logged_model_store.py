"""SQL implementation of the logged-model store, on the tracking store's engine and audit log."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.core.logged_models import LoggedModel, LoggedModelMetric, LoggedModelStatus
from steward.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from steward.tracking._ports import ArtifactInfo, AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables import experiments, runs
from ._tables_logged_models import (
    logged_model_artifacts,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_outputs,
)

__all__ = ["SqlLoggedModelStore"]


def _experiment_key(experiment_id: str) -> int:
    try:
        key = int(experiment_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"experiment {str(experiment_id)[:40]!r} not found", field="experiment_id") from None
    if not -(2**31) <= key < 2**31:
        raise NotFoundError(f"experiment {str(experiment_id)[:40]!r} not found", field="experiment_id")
    return key


class SqlLoggedModelStore:
    """Logged models, their params, tags, metrics and files, and run outputs.

    Args:
        store: the tracking store whose engine (and transactions) this store shares.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- reading -----------------------------------------------------------------------

    def _models(self, conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:  # Any: Row
        ids = [r.model_id for r in rows]
        if not ids:
            return []
        p: dict[str, dict[str, str]] = {i: {} for i in ids}
        t: dict[str, dict[str, str]] = {i: {} for i in ids}
        m: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for mid, k, v in conn.execute(select(logged_model_params).where(logged_model_params.c.model_id.in_(chunk))):
                p[mid][k] = v
            for mid, k, v in conn.execute(select(logged_model_tags).where(logged_model_tags.c.model_id.in_(chunk))):
                t[mid][k] = v
            points = select(logged_model_metrics).where(logged_model_metrics.c.model_id.in_(chunk))
            for r in conn.execute(points.order_by(logged_model_metrics.c.id)):
                value = math.nan if r.is_nan or r.value is None else float(r.value)
                m[r.model_id].append(
                    LoggedModelMetric(r.key, value, r.step, r.timestamp, r.run_id, r.dataset_name, r.dataset_digest)
                )
        return [
            LoggedModel(
                r.model_id, str(r.experiment_id), r.name, LoggedModelStatus(r.status), r.created_at, r.updated_at,
                r.creator, r.model_type, r.source_run_id or "", r.status_message, r.lifecycle_stage,
                p[r.model_id], t[r.model_id], tuple(m[r.model_id]),
            )
            for r in rows
        ]

    def get_model(self, model_id: str) -> LoggedModel:
        with self._store.read() as conn:
            row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).first()
            if row is None:
                raise NotFoundError(f"logged model {model_id[:40]!r} not found", field="model_id")
            return self._models(conn, [row])[0]

    def list_models(
        self,
        experiment_ids: Sequence[str],
        *,
        include_deleted: bool = False,
        projects: Collection[str] | None = None,
        equals: Mapping[str, str] | None = None,
    ) -> list[LoggedModel]:
        keys = [_experiment_key(e) for e in experiment_ids]
        query = select(logged_models).where(logged_models.c.experiment_id.in_(keys))
        for column, value in (equals or {}).items():
            query = query.where(logged_models.c[column] == value)
        if projects is not None:
            # only models the caller may read, filtered in the query
            readable = select(experiments.c.experiment_id).where(experiments.c.project.in_(sorted(projects)))
            query = query.where(logged_models.c.experiment_id.in_(readable))
        if not include_deleted:
            query = query.where(logged_models.c.lifecycle_stage == "active")
        with self._store.read() as conn:
            return self._models(conn, conn.execute(query).all())

    # -- writing -----------------------------------------------------------------------

    def _require_model(self, conn: Connection, model_id: str) -> Any:  # Any: Row
        row = conn.execute(
            select(logged_models.c.experiment_id, logged_models.c.lifecycle_stage)
            .where(logged_models.c.model_id == model_id)
            .with_for_update()
        ).first()
        if row is None or row.lifecycle_stage != "active":
            raise NotFoundError(f"logged model {model_id[:40]!r} not found", field="model_id")
        return row

    def _touch(self, conn: Connection, model_id: str, now: int) -> None:
        conn.execute(update(logged_models).where(logged_models.c.model_id == model_id).values(updated_at=now))

    def create_model(self, model: LoggedModel, audit: AuditEvent) -> LoggedModel:
        eid = _experiment_key(model.experiment_id)
        try:
            with self._store.write() as conn:
                stage = conn.execute(select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)).scalar()
                if stage is None:
                    raise NotFoundError(f"experiment {model.experiment_id!r} not found", field="experiment_id")
                if stage != "active":
                    raise ConflictError(f"experiment {model.experiment_id!r} is deleted", field="experiment_id")
                if model.source_run_id:
                    run_eid = conn.execute(select(runs.c.experiment_id).where(runs.c.run_id == model.source_run_id)).scalar()
                    if run_eid is None:
                        raise NotFoundError(f"run {model.source_run_id!r} not found", field="source_run_id")
                    if run_eid != eid:
                        raise InvalidInputError(
                            f"run {model.source_run_id} is not in experiment {model.experiment_id}", field="source_run_id"
                        )
                conn.execute(
                    insert(logged_models).values(
                        model_id=model.model_id, experiment_id=eid, name=model.name, model_type=model.model_type,
                        source_run_id=model.source_run_id or None, status=model.status.value,
                        status_message=model.status_message, creator=model.creator, created_at=model.created_at,
                        updated_at=model.updated_at, lifecycle_stage="active",
                    )
                )
                if model.params:
                    conn.execute(insert(logged_model_params), [{"model_id": model.model_id, "key": k, "value": v} for k, v in model.params.items()])
                if model.tags:
                    conn.execute(insert(logged_model_tags), [{"model_id": model.model_id, "key": k, "value": v} for k, v in model.tags.items()])
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExistsError(f"logged model {model.model_id} already exists", field="model_id") from exc
        return model

    def set_status(
        self, model_id: str, status: LoggedModelStatus, message: str, now: int, audit: AuditEvent
    ) -> LoggedModel:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            conn.execute(
                update(logged_models)
                .where(logged_models.c.model_id == model_id)
                .values(status=status.value, status_message=message, updated_at=now)
            )
            append_audit(conn, audit)
            row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).one()
            return self._models(conn, [row])[0]

    def set_tags(self, model_id: str, tags: Mapping[str, str], now: int, audit: AuditEvent) -> LoggedModel:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            stmt = self._store._upsert(logged_model_tags)
            stmt = stmt.on_conflict_do_update(index_elements=["model_id", "key"], set_={"value": stmt.excluded.value})
            conn.execute(stmt, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()])
            self._touch(conn, model_id, now)
            append_audit(conn, audit)
            row = conn.execute(select(logged_models).where(logged_models.c.model_id == model_id)).one()
            return self._models(conn, [row])[0]

    def delete_tag(self, model_id: str, key: str, now: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            result = conn.execute(
                delete(logged_model_tags).where(logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"tag {key[:100]!r} not found on logged model {model_id}", field="tag_key")
            self._touch(conn, model_id, now)
            append_audit(conn, audit)

    def log_params(self, model_id: str, params: Mapping[str, str], now: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            existing = dict(
                conn.execute(
                    select(logged_model_params.c.key, logged_model_params.c.value).where(
                        logged_model_params.c.model_id == model_id, logged_model_params.c.key.in_(list(params))
                    )
                ).all()
            )
            for key, value in params.items():
                if key in existing and existing[key] != value:
                    raise ConflictError(
                        f"param {key!r} is already logged with a different value; params are immutable",
                        field=f"params.{key}",
                    )
            new = [{"model_id": model_id, "key": k, "value": v} for k, v in params.items() if k not in existing]
            if new:
                conn.execute(self._store._upsert(logged_model_params).on_conflict_do_nothing(), new)
            self._touch(conn, model_id, now)
            append_audit(conn, audit)

    def delete_model(self, model_id: str, now: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            conn.execute(
                update(logged_models)
                .where(logged_models.c.model_id == model_id)
                .values(lifecycle_stage="deleted", updated_at=now)
            )
            append_audit(conn, audit)

    def log_metrics(self, run_id: str, model_ids_points: Mapping[str, Sequence[LoggedModelMetric]], audit: AuditEvent) -> None:
        with self._store.write() as conn:
            run_eid = conn.execute(select(runs.c.experiment_id).where(runs.c.run_id == run_id)).scalar()
            if run_eid is None:
                raise NotFoundError(f"run {run_id[:40]!r} not found", field="run_id")
            rows = []
            for model_id, points in model_ids_points.items():
                if self._require_model(conn, model_id).experiment_id != run_eid:
                    raise InvalidInputError(f"logged model {model_id} is not in the run's experiment", field="metrics.model_id")
                rows += [
                    {
                        "model_id": model_id, "key": p.key, "value": None if math.isnan(p.value) else p.value,
                        "is_nan": math.isnan(p.value), "step": p.step, "timestamp": p.timestamp, "run_id": p.run_id,
                        "dataset_name": p.dataset_name, "dataset_digest": p.dataset_digest,
                    }
                    for p in points
                ]
            if rows:
                conn.execute(insert(logged_model_metrics), rows)
            append_audit(conn, audit)

    def log_outputs(self, run_id: str, outputs: Mapping[str, int], audit: AuditEvent) -> None:
        with self._store.write() as conn:
            run_eid = conn.execute(select(runs.c.experiment_id).where(runs.c.run_id == run_id).with_for_update()).scalar()
            if run_eid is None:
                raise NotFoundError(f"run {run_id[:40]!r} not found", field="run_id")
            for model_id in outputs:
                row = self._require_model(conn, model_id)
                if row.experiment_id != run_eid:
                    raise InvalidInputError(f"logged model {model_id} is not in the run's experiment", field="models")
            stmt = self._store._upsert(run_model_outputs)
            stmt = stmt.on_conflict_do_update(index_elements=["run_id", "model_id"], set_={"step": stmt.excluded.step})
            conn.execute(stmt, [{"run_id": run_id, "model_id": m, "step": s} for m, s in outputs.items()])
            append_audit(conn, audit)

    def run_outputs(self, run_id: str) -> list[tuple[str, int]]:
        with self._store.read() as conn:
            rows = conn.execute(
                select(run_model_outputs.c.model_id, run_model_outputs.c.step)
                .where(run_model_outputs.c.run_id == run_id)
                .order_by(run_model_outputs.c.model_id)
            ).all()
        return [(r.model_id, r.step) for r in rows]

    # -- files -------------------------------------------------------------------------

    def require_model(self, model_id: str) -> None:
        with self._store.read() as conn:
            row = conn.execute(
                select(logged_models.c.lifecycle_stage).where(logged_models.c.model_id == model_id)
            ).first()
        if row is None or row.lifecycle_stage != "active":
            raise NotFoundError(f"logged model {model_id[:40]!r} not found", field="model_id")

    def record_artifact(self, model_id: str, info: ArtifactInfo, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, model_id)
            stmt = self._store._upsert(logged_model_artifacts)
            stmt = stmt.on_conflict_do_update(
                index_elements=["model_id", "path"], set_={c: stmt.excluded[c] for c in ("digest", "size", "created_at")}
            )
            conn.execute(
                stmt,
                {"model_id": model_id, "path": info.path, "digest": info.digest, "size": info.size, "created_at": info.created_at},
            )
            append_audit(conn, audit)

    def list_artifacts(self, model_id: str, prefix: str = "") -> list[ArtifactInfo]:
        self.require_model(model_id)
        query = select(logged_model_artifacts).where(logged_model_artifacts.c.model_id == model_id)
        if prefix:
            query = query.where(logged_model_artifacts.c.path.startswith(prefix.rstrip("/") + "/", autoescape=True))
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(logged_model_artifacts.c.path)).all()
        return [ArtifactInfo(r.path, r.digest, r.size, r.created_at) for r in rows]

    def get_artifact(self, model_id: str, path: str) -> ArtifactInfo:
        with self._store.read() as conn:
            row = conn.execute(
                select(logged_model_artifacts).where(
                    logged_model_artifacts.c.model_id == model_id, logged_model_artifacts.c.path == path
                )
            ).first()
        if row is None:
            self.require_model(model_id)
            raise NotFoundError(f"artifact {path[:200]!r} not found in logged model {model_id}", field="path")
        return ArtifactInfo(row.path, row.digest, row.size, row.created_at)
