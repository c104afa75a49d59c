"""Upload sessions in the metadata database (their chunks live in the artifact store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from steward.data._uploads import Upload
from steward.errors import ConflictError, NotFoundError
from steward.tracking._ports import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_data import datasets
from ._tables_uploads import uploads

__all__ = ["SqlUploadStore"]


def _upload(row: Any) -> Upload:  # Any: a SQLAlchemy row
    return Upload(
        row.upload_id, row.owner, row.project, row.dataset, row.filename, row.format, int(row.size), row.sha256,
        int(row.received), int(row.created_at), int(row.updated_at), row.kind,
    )


class SqlUploadStore:
    """Upload sessions beside the other metadata."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_upload(self, upload: Upload, audit: AuditEvent) -> Upload:
        with self._store.write() as conn:
            conn.execute(
                insert(uploads).values(
                    upload_id=upload.upload_id, owner=upload.owner, project=upload.project, dataset=upload.dataset,
                    filename=upload.filename, format=upload.format, size=upload.size, sha256=upload.sha256,
                    received=upload.received, created_at=upload.created_at, updated_at=upload.updated_at, kind=upload.kind,
                )
            )
            append_audit(conn, audit)
        return upload

    def get_upload(self, upload_id: str) -> Upload:
        with self._store.read() as conn:
            row = conn.execute(select(uploads).where(uploads.c.upload_id == upload_id)).first()
        if row is None:
            raise NotFoundError(f"upload {upload_id[:40]} not found", field="upload_id")
        return _upload(row)

    def find_open_upload(self, owner: str, dataset: str, size: int, sha256: str, kind: str = "dataset") -> Upload | None:
        with self._store.read() as conn:
            row = conn.execute(
                select(uploads)
                .where(
                    uploads.c.owner == owner, uploads.c.dataset == dataset, uploads.c.sha256 == sha256, uploads.c.size == size,
                    uploads.c.kind == kind,
                )
                .order_by(uploads.c.received.desc())
                .limit(1)
            ).first()
        return None if row is None else _upload(row)

    def advance_upload(self, upload_id: str, start: int, end: int, now: int) -> Upload:
        with self._store.write() as conn:
            moved = conn.execute(
                update(uploads)
                .where(uploads.c.upload_id == upload_id, uploads.c.received == start)
                .values(received=end, updated_at=now)
            ).rowcount
            row = conn.execute(select(uploads).where(uploads.c.upload_id == upload_id)).first()
        if row is None:
            raise NotFoundError(f"upload {upload_id} not found", field="upload_id")
        if not moved:
            raise ConflictError(
                f"upload {upload_id} has {int(row.received)} bytes; the next chunk must start there", field="Content-Range"
            )
        return _upload(row)

    def delete_upload(self, upload_id: str, audit: AuditEvent | None) -> None:
        with self._store.write() as conn:
            conn.execute(delete(uploads).where(uploads.c.upload_id == upload_id))
            if audit is not None:
                append_audit(conn, audit)

    def dataset_project(self, name: str) -> str | None:
        with self._store.read() as conn:
            found: str | None = conn.execute(select(datasets.c.project).where(datasets.c.name == name)).scalar()
        return found
