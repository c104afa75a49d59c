"""SQL implementation of the feature registry: versioned view definitions, materialisation
state, lineage of datasets built from views, and the signatures of registered models."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select, update

from steward.core.features import ModelInputs, view_from_dict
from steward.errors import ConflictError, NotFoundError
from steward.features._ports import StoredView
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_features import feature_lineage, feature_view_versions, feature_views
from ._tables_registry import model_versions

__all__ = ["SqlFeatureRegistry"]

_V = feature_views.c
_D = feature_view_versions.c
_L = feature_lineage.c


def _stored(view_row: Any, version_row: Any) -> StoredView:  # Any: SQLAlchemy rows
    return StoredView(
        view=view_from_dict(version_row.definition),
        version=int(version_row.version),
        project=view_row.project,
        created_at=int(version_row.created_at),
        created_by=version_row.created_by,
        materialized_until=None if view_row.materialized_until is None else int(view_row.materialized_until),
        newest_value_at=None if view_row.newest_value_at is None else int(view_row.newest_value_at),
        materialized_at=None if view_row.materialized_at is None else int(view_row.materialized_at),
    )


class SqlFeatureRegistry:
    """Feature views on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_view(self, name: str, version: int | None = None) -> StoredView:
        with self._store.read() as conn:
            view_row = conn.execute(select(feature_views).where(_V.name == name)).first()
            if view_row is None:
                raise NotFoundError(f"feature view {name[:63]!r} not found", field="name")
            wanted = view_row.latest_version if version is None else version
            version_row = conn.execute(
                select(feature_view_versions).where(_D.name == name, _D.version == wanted)
            ).first()
        if version_row is None:
            raise NotFoundError(f"feature view {name[:63]!r} has no version {wanted}", field="version")
        return _stored(view_row, version_row)

    def list_views(self, projects: Collection[str] | None = None) -> list[StoredView]:
        query = (
            select(feature_views, _D.definition, _D.version.label("version"), _D.created_at.label("v_created_at"),
                   _D.created_by.label("v_created_by"))
            .join(feature_view_versions, (_D.name == _V.name) & (_D.version == _V.latest_version))
            .order_by(_V.name)
        )
        if projects is not None:
            query = query.where(_V.project.in_(sorted(projects)))
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return [
            StoredView(
                view_from_dict(r.definition), int(r.version), r.project, int(r.v_created_at), r.v_created_by,
                r.materialized_until, r.newest_value_at, r.materialized_at,
            )
            for r in rows
        ]

    def add_view_version(self, view: Any, project: str, audit: AuditEvent) -> StoredView:  # Any: FeatureView
        try:
            with self._store.write() as conn:
                row = conn.execute(select(_V.latest_version).where(_V.name == view.name).with_for_update()).first()
                if row is None:
                    version = 1
                    conn.execute(insert(feature_views).values(
                        name=view.name, project=project, latest_version=1, created_at=audit.timestamp, created_by=audit.actor,
                    ))
                else:
                    version = int(row.latest_version) + 1
                    conn.execute(update(feature_views).where(_V.name == view.name).values(latest_version=version))
                conn.execute(insert(feature_view_versions).values(
                    name=view.name, version=version, definition=view.to_dict(), created_at=audit.timestamp,
                    created_by=audit.actor,
                ))
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:  # a concurrent apply of the same view
            raise ConflictError(f"feature view {view.name} changed concurrently; apply again", field="name") from exc
        return self.get_view(view.name)

    def model_inputs(self) -> list[ModelInputs]:
        query = select(model_versions.c.name, model_versions.c.version, model_versions.c.signature).where(
            model_versions.c.state != "retired"  # a retired version serves nothing
        )
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        found = []
        for row in rows:
            inputs = (row.signature or {}).get("inputs") or []
            if inputs:
                found.append(ModelInputs(row.name, int(row.version), {str(c["name"]): str(c["dtype"]) for c in inputs}))
        return found

    def record_materialization(self, name: str, until_ms: int, newest_ms: int | None, audit: AuditEvent) -> StoredView:
        with self._store.write() as conn:
            row = conn.execute(select(feature_views).where(_V.name == name).with_for_update()).first()
            if row is None:
                raise NotFoundError(f"feature view {name[:63]!r} not found", field="name")
            newest = row.newest_value_at
            if newest_ms is not None and (newest is None or newest_ms > newest):
                newest = newest_ms
            until = until_ms if row.materialized_until is None else max(int(row.materialized_until), until_ms)
            conn.execute(update(feature_views).where(_V.name == name).values(
                materialized_until=until, newest_value_at=newest, materialized_at=audit.timestamp,
            ))
            append_audit(conn, audit)
        return self.get_view(name)

    def add_lineage(self, dataset: str, version: int, views: Sequence[tuple[str, int]], audit: AuditEvent) -> None:
        with self._store.write() as conn:
            known = {
                (r.view, r.view_version)
                for r in conn.execute(select(_L.view, _L.view_version).where(_L.dataset == dataset, _L.dataset_version == version))
            }
            for view, view_version in views:
                if (view, view_version) not in known:
                    conn.execute(insert(feature_lineage).values(
                        dataset=dataset, dataset_version=version, view=view, view_version=view_version,
                        created_at=audit.timestamp,
                    ))
            append_audit(conn, audit)

    def lineage_of(self, dataset: str, version: int) -> list[tuple[str, int]]:
        query = select(_L.view, _L.view_version).where(_L.dataset == dataset, _L.dataset_version == version).order_by(_L.view)
        with self._store.read() as conn:
            return [(r.view, int(r.view_version)) for r in conn.execute(query)]
