"""SQL implementation of the prediction log's index: segment rows and delayed labels."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select

from steward.errors import ConflictError
from steward.predictions._ports import LabelRow, SegmentInfo
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_predictions import prediction_labels, prediction_segments

__all__ = ["SqlPredictionStore"]

# Keeps each IN (...) and each multi-row INSERT under SQLite's and psycopg's parameter limits.
_CHUNK = 1_000
_S = prediction_segments.c
_L = prediction_labels.c


class SqlPredictionStore:
    """The segment index and labels on the same database as :class:`SqlStore`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_segment(self, segment: SegmentInfo) -> None:
        try:
            with self._store.write() as conn:
                conn.execute(
                    insert(prediction_segments).values(
                        deployment=segment.deployment, path=segment.path, min_time=segment.min_time,
                        max_time=segment.max_time, rows=segment.rows, bytes=segment.bytes, schema=dict(segment.schema),
                        created_at=segment.created_at,
                    )
                )
        except sa_exc.IntegrityError as exc:
            raise ConflictError(f"segment {segment.path!r} is already indexed", field="path") from exc

    def list_segments(self, deployment: str, start: int | None, end: int | None) -> list[SegmentInfo]:
        query = select(prediction_segments).where(_S.deployment == deployment)
        if start is not None:
            query = query.where(_S.max_time >= start)
        if end is not None:
            query = query.where(_S.min_time < end)
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(_S.min_time, _S.id)).all()
        return [
            SegmentInfo(r.deployment, r.path, r.min_time, r.max_time, r.rows, r.bytes, dict(r.schema), r.created_at)
            for r in rows
        ]

    @functools.cached_property
    def _label_upsert(self) -> Any:  # Any: dialect-specific Insert
        stmt = self._store._upsert(prediction_labels)
        return stmt.on_conflict_do_update(
            index_elements=["deployment", "request_id", "row"],
            set_={c: stmt.excluded[c] for c in ("label", "ingested_at", "ingested_by")},
        )

    def upsert_labels(self, deployment: str, labels: Sequence[LabelRow], actor: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            for i in range(0, len(labels), _CHUNK):
                conn.execute(
                    self._label_upsert,
                    [
                        {"deployment": deployment, "request_id": lab.request_id, "row": lab.row, "label": lab.label,
                         "ingested_at": lab.ingested_at, "ingested_by": actor}
                        for lab in labels[i : i + _CHUNK]
                    ],
                )
            append_audit(conn, audit)

    def get_labels(self, deployment: str, request_ids: Sequence[str] | None) -> list[LabelRow]:
        found: list[LabelRow] = []
        with self._store.read() as conn:
            if request_ids is None:
                query = select(_L.request_id, _L.row, _L.label, _L.ingested_at).where(_L.deployment == deployment)
                return [LabelRow(r.request_id, r.row, r.label, r.ingested_at) for r in conn.execute(query)]
            for i in range(0, len(request_ids), _CHUNK):
                query = select(_L.request_id, _L.row, _L.label, _L.ingested_at).where(
                    _L.deployment == deployment, _L.request_id.in_(list(request_ids[i : i + _CHUNK]))
                )
                found += [LabelRow(r.request_id, r.row, r.label, r.ingested_at) for r in conn.execute(query)]
        return found
