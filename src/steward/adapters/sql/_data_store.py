"""SQL implementation of the data stage's store (dataset versions, input lineage)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy import exc as sa_exc

from steward.data._ports import DatasetSummary, InputUse
from steward.data._versions import ColumnSchema, DatasetVersion
from steward.errors import NotFoundError, StorageError
from steward.tracking._ports import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables import experiments, run_inputs, runs
from ._tables_data import dataset_versions, datasets

__all__ = ["SqlDataStore"]

# Two writers racing for the next version number: the loser retries with a fresh read.
_MAX_ATTEMPTS = 5


class SqlDataStore:
    """Dataset versions on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_dataset_version(self, version: DatasetVersion, audit: AuditEvent, project: str | None = None) -> DatasetVersion:
        for _attempt in range(_MAX_ATTEMPTS):
            existing = self._by_name_and_hash(version.name, version.content_hash)
            if existing is not None:
                return existing
            try:
                return self._insert(version, audit, project or version.name)
            except sa_exc.IntegrityError:
                # another process inserted this content or took this number; look again
                continue
        raise StorageError(f"could not register a version of dataset {version.name!r}: too many concurrent writers")

    def _insert(self, version: DatasetVersion, audit: AuditEvent, project: str) -> DatasetVersion:
        with self._store.write() as conn:
            same = conn.execute(
                select(dataset_versions).where(
                    dataset_versions.c.name == version.name, dataset_versions.c.content_hash == version.content_hash
                )
            ).first()
            if same is not None:
                return _version_from_row(same)
            if conn.execute(select(datasets.c.name).where(datasets.c.name == version.name)).first() is None:
                conn.execute(
                    insert(datasets).values(
                        name=version.name,
                        description=version.description,
                        created_at=version.created_at,
                        created_by=version.created_by,
                        project=project,
                    )
                )
            latest = conn.execute(
                select(func.max(dataset_versions.c.version)).where(dataset_versions.c.name == version.name)
            ).scalar()
            stored = dataclasses.replace(version, version=int(latest or 0) + 1)
            conn.execute(insert(dataset_versions).values(**_row_from_version(stored)))
            append_audit(
                conn,
                AuditEvent(
                    audit.actor,
                    audit.action,
                    stored.ref,
                    audit.timestamp,
                    {**audit.details, "version": stored.version},
                ),
            )
            return stored

    def _by_name_and_hash(self, name: str, content_hash: str) -> DatasetVersion | None:
        with self._store.read() as conn:
            row = conn.execute(
                select(dataset_versions).where(
                    dataset_versions.c.name == name, dataset_versions.c.content_hash == content_hash
                )
            ).first()
            return None if row is None else _version_from_row(row)

    def get_dataset_version(self, name: str, version: int | None) -> DatasetVersion:
        query = select(dataset_versions).where(dataset_versions.c.name == name)
        if version is None:
            query = query.order_by(dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(dataset_versions.c.version == version)
        with self._store.read() as conn:
            row = conn.execute(query).first()
            if row is None:
                if version is None or not self._dataset_exists(conn, name):
                    raise NotFoundError(f"dataset {name!r} not found", field="name")
                raise NotFoundError(f"dataset {name!r} has no version {version}", field="version")
            return _version_from_row(row)

    @staticmethod
    def _dataset_exists(conn: Connection, name: str) -> bool:
        return conn.execute(select(datasets.c.name).where(datasets.c.name == name)).first() is not None

    def find_dataset_versions_by_hash(self, prefix: str, name: str | None = None) -> list[DatasetVersion]:
        query = select(dataset_versions).where(dataset_versions.c.content_hash.startswith(prefix, autoescape=True))
        if name is not None:
            query = query.where(dataset_versions.c.name == name)
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(dataset_versions.c.name, dataset_versions.c.version).limit(50)).all()
            return [_version_from_row(r) for r in rows]

    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]:
        query = select(dataset_versions).order_by(dataset_versions.c.name, dataset_versions.c.version)
        with self._store.read() as conn:
            if name is not None:
                if not self._dataset_exists(conn, name):
                    raise NotFoundError(f"dataset {name!r} not found", field="name")
                query = query.where(dataset_versions.c.name == name)
            return [_version_from_row(r) for r in conn.execute(query)]

    def list_datasets(self, projects: Collection[str] | None = None) -> list[DatasetSummary]:
        stats = (
            select(
                dataset_versions.c.name,
                func.max(dataset_versions.c.version).label("latest"),
                func.count().label("n"),
            )
            .group_by(dataset_versions.c.name)
            .subquery()
        )
        query = (
            select(datasets, stats.c.latest, stats.c.n)
            .join(stats, stats.c.name == datasets.c.name)
            .order_by(datasets.c.name)
        )
        if projects is not None:
            query = query.where(datasets.c.project.in_(sorted(projects)))
        with self._store.read() as conn:
            return [
                DatasetSummary(r.name, r.description, r.created_at, r.created_by, int(r.latest), int(r.n), r.project)
                for r in conn.execute(query)
            ]

    def list_input_uses(self, refs: list[str], projects: Collection[str] | None = None) -> list[InputUse]:
        query = (
            select(
                runs.c.run_id,
                runs.c.experiment_id,
                runs.c.name,
                runs.c.status,
                runs.c.start_time,
                run_inputs.c.role,
                run_inputs.c.dataset,
            )
            .join(runs, runs.c.run_id == run_inputs.c.run_id)
            .where(or_(*[run_inputs.c.dataset == r for r in refs]))
            .where(runs.c.lifecycle_stage == "active")
            .order_by(runs.c.start_time, runs.c.run_id)
        )
        if projects is not None:
            readable = select(experiments.c.experiment_id).where(experiments.c.project.in_(sorted(projects)))
            query = query.where(runs.c.experiment_id.in_(readable))
        with self._store.read() as conn:
            return [
                InputUse(r.run_id, str(r.experiment_id), r.name, r.status, r.start_time, r.role, r.dataset)
                for r in conn.execute(query)
            ]


def _row_from_version(v: DatasetVersion) -> dict[str, Any]:  # Any: column values
    return {
        "name": v.name,
        "version": v.version,
        "content_hash": v.content_hash,
        "num_rows": v.num_rows,
        "num_columns": v.num_columns,
        "schema": [list(c) for c in v.schema],
        "profile": v.profile,
        "source": v.source,
        "storage": v.storage,
        "artifact_digest": v.artifact_digest,
        "artifact_uri": v.artifact_uri,
        "size_bytes": v.size_bytes,
        "description": v.description,
        "created_at": v.created_at,
        "created_by": v.created_by,
    }


def _version_from_row(r: Any) -> DatasetVersion:  # Any: Row
    return DatasetVersion(
        name=r.name,
        version=int(r.version),
        content_hash=r.content_hash,
        num_rows=int(r.num_rows),
        num_columns=int(r.num_columns),
        schema=tuple(ColumnSchema(str(c[0]), str(c[1]), bool(c[2])) for c in r.schema),
        profile=dict(r.profile),
        source=r.source,
        storage=r.storage,
        artifact_digest=r.artifact_digest,
        artifact_uri=r.artifact_uri,
        size_bytes=int(r.size_bytes),
        description=r.description,
        created_at=int(r.created_at),
        created_by=r.created_by,
    )
