"""What the prediction log needs from storage, as Protocols the adapters implement.

Two stores: the metadata store indexes segments and keeps labels
(:class:`PredictionIndex`, in ``adapters/sql/_prediction_store.py``); the artifact store
holds the segment files under a fixed prefix (:class:`SegmentFiles`,
``adapters/artifacts/_segment_files.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from steward.tracking import AuditEvent

__all__ = ["LabelRow", "PredictionIndex", "SegmentFiles", "SegmentInfo"]


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """One indexed Parquet segment of a deployment's log.

    Attributes:
        deployment: whose predictions the segment holds.
        path: the file's path under the artifact store's root.
        min_time: the earliest row's time (UTC epoch ms).
        max_time: the latest row's time (UTC epoch ms).
        rows: number of rows (one per predicted row, not per request).
        bytes: the file's size.
        schema: column name -> Arrow type.
        created_at: when the segment was indexed (UTC epoch ms).
    """

    deployment: str
    path: str
    min_time: int
    max_time: int
    rows: int
    bytes: int
    schema: Mapping[str, str]
    created_at: int

    def to_dict(self) -> dict[str, object]:
        return {
            "deployment": self.deployment, "path": self.path, "min_time": self.min_time, "max_time": self.max_time,
            "rows": self.rows, "bytes": self.bytes, "schema": dict(self.schema), "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class LabelRow:
    """Ground truth for one predicted row (``row`` -1: every row of the request)."""

    request_id: str
    row: int
    label: object
    ingested_at: int


class PredictionIndex(Protocol):
    """The segment index and the labels, in the metadata store."""

    def add_segment(self, segment: SegmentInfo) -> None:
        """Index a segment whose file is already durable."""
        ...

    def list_segments(self, deployment: str, start: int | None, end: int | None) -> list[SegmentInfo]:
        """Segments of ``deployment`` that may hold rows with ``start <= time < end``, oldest first."""
        ...

    def upsert_labels(self, deployment: str, labels: Sequence[LabelRow], actor: str, audit: AuditEvent) -> None:
        """Store labels (the latest wins per request and row) and audit the ingest, in one transaction."""
        ...

    def get_labels(self, deployment: str, request_ids: Sequence[str] | None) -> list[LabelRow]:
        """The labels of these requests (any row); ``None``: every label of the deployment."""
        ...


class SegmentFiles(Protocol):
    """Segment files under the artifact store's root (not content-addressed)."""

    def write_atomic(self, path: str, data: bytes) -> None:
        """Make ``path`` hold ``data`` whole or not at all (temp file + rename, or one PUT)."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes."""
        ...
