"""SQL implementation of the validation store (suite versions, validation results)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy import exc as sa_exc

from steward.data._validation_ports import ResultRecord, SuiteRecord
from steward.errors import NotFoundError, StorageError
from steward.tracking._ports import AuditEvent

from ._projects import dataset_ref_project
from ._store import SqlStore
from ._tables_validation import validation_results, validation_suites

__all__ = ["SqlValidationStore"]

# Two writers racing for the next version number: the loser retries with a fresh read.
_MAX_ATTEMPTS = 5


class SqlValidationStore:
    """Suites and results on the same database (and transactions) as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_suite(
        self, name: str, text: str, content_hash: str, now: int, audit: AuditEvent, project: str | None = None
    ) -> tuple[SuiteRecord, bool]:
        """Store a suite version; the existing one (and False) when this text is already stored.

        A new suite is created in ``project`` (default: its name); later versions keep the first's."""
        for _attempt in range(_MAX_ATTEMPTS):
            try:
                with self._store.write() as conn:
                    same = conn.execute(
                        select(validation_suites).where(
                            validation_suites.c.name == name, validation_suites.c.content_hash == content_hash
                        )
                    ).first()
                    if same is not None:
                        return _suite(same), False
                    latest = conn.execute(
                        select(func.max(validation_suites.c.version)).where(validation_suites.c.name == name)
                    ).scalar()
                    record = SuiteRecord(name, int(latest or 0) + 1, text, content_hash, now, audit.actor)
                    owner = _suite_project(conn, name) or project or name
                    conn.execute(
                        insert(validation_suites).values(
                            name=name,
                            version=record.version,
                            yaml=text,
                            content_hash=content_hash,
                            created_at=now,
                            created_by=audit.actor,
                            project=owner,
                        )
                    )
                    self._store._audit(
                        conn,
                        AuditEvent(audit.actor, audit.action, record.ref, audit.timestamp, {**audit.details, "version": record.version}),
                    )
                    return record, True
            except sa_exc.IntegrityError:
                continue  # another process stored this text or took this number; look again
        raise StorageError(f"could not store suite {name!r}: too many concurrent writers")

    def get_suite(self, name: str, version: int | None) -> SuiteRecord:
        """One version (None: the latest). Raises NotFoundError."""
        query = select(validation_suites).where(validation_suites.c.name == name)
        if version is None:
            query = query.order_by(validation_suites.c.version.desc()).limit(1)
        else:
            query = query.where(validation_suites.c.version == version)
        with self._store.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            shown = name if version is None else f"{name}:{version}"
            raise NotFoundError(f"validation suite {shown!r} not found", field="suite")
        return _suite(row)

    def list_suites(self, name: str | None = None, projects: Collection[str] | None = None) -> list[SuiteRecord]:
        """Every version (of ``name``; of suites in ``projects`` when given), by name then version."""
        query = select(validation_suites).order_by(validation_suites.c.name, validation_suites.c.version)
        if projects is not None:
            query = query.where(validation_suites.c.project.in_(sorted(projects)))
        if name is not None:
            query = query.where(validation_suites.c.name == name)
        with self._store.read() as conn:
            return [_suite(r) for r in conn.execute(query)]

    def delete_suite(self, name: str, audit: AuditEvent) -> int:
        """Delete every version of ``name`` with one audit row. Raises NotFoundError."""
        with self._store.write() as conn:
            deleted = conn.execute(delete(validation_suites).where(validation_suites.c.name == name)).rowcount
            if not deleted:
                raise NotFoundError(f"validation suite {name!r} not found", field="suite")
            self._store._audit(conn, AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, {**audit.details, "versions": deleted}))
        return int(deleted)

    def add_result(self, record: ResultRecord, audit: AuditEvent) -> ResultRecord:
        """Store one validation result with its audit row, in one transaction."""
        with self._store.write() as conn:
            result = conn.execute(
                insert(validation_results).values(
                    suite_ref=record.suite_ref,
                    dataset_ref=record.dataset_ref,
                    passed=record.passed,
                    summary=record.summary,
                    created_at=record.created_at,
                    created_by=record.created_by,
                    project=dataset_ref_project(conn, record.dataset_ref) or record.dataset_ref.split(":", 1)[0][:250],
                )
            )
            result_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            self._store._audit(
                conn,
                AuditEvent(
                    audit.actor,
                    audit.action,
                    record.dataset_ref,
                    audit.timestamp,
                    {**audit.details, "suite": record.suite_ref, "passed": record.passed, "result_id": result_id},
                ),
            )
        return ResultRecord(result_id, record.suite_ref, record.dataset_ref, record.passed, record.summary, record.created_at, record.created_by)

    def list_results(
        self, dataset_ref: str | None = None, suite_ref: str | None = None, limit: int = 100,
        projects: Collection[str] | None = None,
    ) -> list[ResultRecord]:
        """Stored results, newest first (of datasets in ``projects`` when given)."""
        query = select(validation_results).order_by(validation_results.c.id.desc()).limit(limit)
        if projects is not None:
            query = query.where(validation_results.c.project.in_(sorted(projects)))
        if dataset_ref is not None:
            query = query.where(validation_results.c.dataset_ref == dataset_ref)
        if suite_ref is not None:
            query = query.where(validation_results.c.suite_ref == suite_ref)
        with self._store.read() as conn:
            return [
                ResultRecord(r.id, r.suite_ref, r.dataset_ref, bool(r.passed), dict(r.summary), r.created_at, r.created_by)
                for r in conn.execute(query)
            ]


def _suite_project(conn: Connection, name: str) -> str | None:
    found: str | None = conn.execute(
        select(validation_suites.c.project).where(validation_suites.c.name == name).limit(1)
    ).scalar()
    return found


def _suite(row: Any) -> SuiteRecord:  # Any: a SQLAlchemy Row
    return SuiteRecord(row.name, row.version, row.yaml, row.content_hash, row.created_at, row.created_by)
