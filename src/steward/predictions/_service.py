"""Reading the prediction log (segments pruned by the index, labels joined) and ingesting labels."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from steward.errors import IntegrityError, InvalidInputError, NotFoundError
from steward.tracking import AuditEvent

from ._labels import LabelReport, labels_from_table
from ._ports import LabelRow, PredictionIndex, SegmentFiles, SegmentInfo
from ._segments import _TYPES, BASE_COLUMNS, _array, decode_segment, validate_deployment

__all__ = ["PredictionService", "TimeLike", "to_epoch_ms"]

_LABELED_AT = pa.timestamp("ms", tz="UTC")
_ALL_LABELS_FROM = 20_000  # distinct request ids in a window from which all labels are fetched at once

TimeLike = dt.datetime | str | int | None
_UNKNOWN_EXAMPLES = 5


def to_epoch_ms(value: TimeLike, *, field: str) -> int | None:
    """UTC epoch milliseconds for a datetime (naive = UTC), an ISO-8601 string or epoch ms.

    Raises:
        InvalidInputError: anything else, naming ``field``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be an ISO-8601 time or epoch milliseconds", field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(
                f"{field} must be an ISO-8601 time such as 2024-05-01T12:00:00Z or epoch milliseconds", field=field
            ) from None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return int(moment.timestamp() * 1000)
    raise InvalidInputError(f"{field} must be an ISO-8601 time or epoch milliseconds", field=field)


class PredictionService:
    """The prediction log of every deployment, as readers and label ingesters see it.

    Args:
        index: segment rows and labels (metadata store).
        files: segment files (artifact store).
        actor: who ingests labels (audited).
    """

    def __init__(self, index: PredictionIndex, files: SegmentFiles, actor: str) -> None:
        self.index = index
        self.files = files
        self.actor = actor

    def list_segments(self, deployment: str, start: TimeLike = None, end: TimeLike = None) -> list[SegmentInfo]:
        """The indexed segments that may hold rows of ``[start, end)``, oldest first.

        Raises:
            InvalidInputError: a bad deployment name or time.
        """
        validate_deployment(deployment)
        return self.index.list_segments(deployment, to_epoch_ms(start, field="start"), to_epoch_ms(end, field="end"))

    def read(self, deployment: str, start: TimeLike = None, end: TimeLike = None) -> pa.Table:
        """The logged rows of ``deployment`` with ``start <= timestamp < end``, labels joined.

        Only indexed segments are read, and of those only the ones whose time window meets
        ``[start, end)``. Columns: ``request_id``, ``row``, ``timestamp``, ``deployment``,
        ``model_name``, ``model_version``, ``variant``, ``shadow``, ``latency_ms``,
        ``input.<feature>``..., ``output`` (``output.<i>``... for vectors), ``label``, ``labeled_at``.

        Raises:
            InvalidInputError: a bad deployment name or time, or ``end`` before ``start``.
            IntegrityError: an indexed segment that cannot be read (a damaged store).
            StorageError: a store is unreachable.
        """
        lo, hi = to_epoch_ms(start, field="start"), to_epoch_ms(end, field="end")
        if lo is not None and hi is not None and hi < lo:
            raise InvalidInputError("end is before start", field="end")
        validate_deployment(deployment)
        tables = []
        for segment in self.index.list_segments(deployment, lo, hi):
            table = self._segment(segment)
            ms = table.column("timestamp").cast(pa.int64())
            keep = None
            if lo is not None:
                keep = pc.greater_equal(ms, lo)
            if hi is not None:
                below = pc.less(ms, hi)
                keep = below if keep is None else pc.and_(keep, below)
            tables.append(table if keep is None else table.filter(keep))
        table = _concat(tables) if tables else _empty()
        return self._with_labels(deployment, table)

    def _segment(self, segment: SegmentInfo) -> pa.Table:
        try:
            return decode_segment(self.files.read_bytes(segment.path))
        except NotFoundError as exc:
            raise IntegrityError(f"indexed segment {segment.path!r} is missing from the artifact store") from exc
        except (pa.ArrowInvalid, OSError) as exc:
            raise IntegrityError(f"indexed segment {segment.path!r} cannot be read; the store is damaged") from exc

    def _with_labels(self, deployment: str, table: pa.Table) -> pa.Table:
        n = table.num_rows
        table = table.add_column(3, "deployment", pa.array([deployment] * n, pa.string()))
        label: pa.Array | pa.ChunkedArray = pa.nulls(n)
        labeled_at: pa.Array | pa.ChunkedArray = pa.nulls(n, _LABELED_AT)
        if n:
            unique = pc.unique(table.column("request_id"))
            # a wide window: one query for all the deployment's labels beats many IN (...) lists
            wanted = None if len(unique) > _ALL_LABELS_FROM else unique.to_pylist()
            found = self.index.get_labels(deployment, wanted)
            if found:
                label, labeled_at = _join_labels(table, found)
        return table.append_column("label", label).append_column("labeled_at", labeled_at)

    def known_requests(self, deployment: str, request_ids: Sequence[str]) -> tuple[set[str], set[tuple[str, int]]] | None:
        """Which of ``request_ids`` the deployment's indexed segments hold, and their (id, row) pairs.

        Only the id and row columns are read, and only matching ids leave Arrow, so the
        cost follows the log's size in C, not in Python objects.

        Returns:
            None when the deployment has no indexed segment at all.
        """
        segments = self.index.list_segments(deployment, None, None)
        if not segments:
            return None
        wanted = pa.array(sorted(set(request_ids)), pa.string())
        ids: set[str] = set()
        pairs: set[tuple[str, int]] = set()
        for segment in segments:
            try:
                part = decode_segment(self.files.read_bytes(segment.path), columns=["request_id", "row"])
            except NotFoundError as exc:
                raise IntegrityError(f"indexed segment {segment.path!r} is missing from the artifact store") from exc
            hit = part.filter(pc.is_in(part.column("request_id"), value_set=wanted))
            rids = hit.column("request_id").to_pylist()
            ids.update(rids)
            pairs.update(zip(rids, hit.column("row").to_pylist(), strict=True))
        return ids, pairs

    def ingest_labels(
        self, deployment: str, table: pa.Table, *, key: str = "request_id", label_column: str = "label", source: str = "upload"
    ) -> LabelReport:
        """Attach the labels in ``table`` to logged predictions (audited).

        Idempotent: ingesting the same labels again changes nothing, and a later label for
        the same prediction replaces the earlier one. Labels of requests that are not in
        the log are counted and reported, not stored.

        Raises:
            InvalidInputError: a bad deployment name or label table (the message names the column or row).
            NotFoundError: the deployment has logged no predictions.
        """
        validate_deployment(deployment)
        labels, missing = labels_from_table(table, key=key, label_column=label_column)
        known = self.known_requests(deployment, [lab.request_id for lab in labels])
        if known is None:
            raise NotFoundError(f"no predictions are logged for deployment {deployment!r}", field="deployment")
        ids, pairs = known
        now = int(time.time() * 1000)
        attached: list[LabelRow] = []
        unknown: list[str] = []
        for lab in labels:
            if (lab.row < 0 and lab.request_id in ids) or (lab.request_id, lab.row) in pairs:
                attached.append(LabelRow(lab.request_id, lab.row, lab.label, now))
            else:
                unknown.append(lab.request_id)
        report = LabelReport(
            deployment, table.num_rows, len(attached), len(unknown), missing, tuple(dict.fromkeys(unknown))[:_UNKNOWN_EXAMPLES]
        )
        audit = AuditEvent(
            self.actor, "labels.ingest", f"deployments:/{deployment}", now,
            {"source": source[:200], "key": key, "label_column": label_column, "rows": report.rows,
             "attached": report.attached, "unknown": report.unknown, "missing": report.missing},
        )
        self.index.upsert_labels(deployment, attached, self.actor, audit)
        return report


def _join_labels(table: pa.Table, found: Sequence[LabelRow]) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """The label and its time for each row of ``table``: the row's own label, else its request's.

    A hash join in Arrow (keys only, then back in the table's order), so a window of
    millions of rows never becomes Python objects.
    """
    labels = pa.table({
        "request_id": pa.array([f.request_id for f in found], pa.string()),
        "row": pa.array([f.row for f in found], pa.int64()),
        "label": _array([f.label for f in found], None),
        "labeled_at": pa.array([f.ingested_at for f in found], _LABELED_AT),
    })
    keys = pa.table({
        "request_id": table.column("request_id"),
        "row": table.column("row").cast(pa.int64()),
        "i": pa.array(range(table.num_rows), pa.int64()),
    })
    whole = labels.filter(pc.less(labels.column("row"), 0)).select(["request_id", "label", "labeled_at"])
    whole = whole.rename_columns(["request_id", "request_label", "request_labeled_at"])
    joined = (
        keys.join(labels.filter(pc.greater_equal(labels.column("row"), 0)), keys=["request_id", "row"], join_type="left outer")
        .join(whole, keys="request_id", join_type="left outer")
        .sort_by("i")
    )
    return (
        pc.coalesce(joined.column("label"), joined.column("request_label")),
        pc.coalesce(joined.column("labeled_at"), joined.column("request_labeled_at")),
    )


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # segments disagree on a column's type (a model version changed its output type):
        # such columns are read as text, like a segment stores them
        types: dict[str, set[str]] = {}
        for t in tables:
            for f in t.schema:
                types.setdefault(f.name, set()).add(str(f.type))
        clash = {name for name, seen in types.items() if len(seen - {"null"}) > 1}
        fixed = []
        for t in tables:
            for name in clash & set(t.column_names):
                i = t.column_names.index(name)
                kind = t.schema.field(name).type
                if name == "output" and (pa.types.is_list(kind) or pa.types.is_struct(kind)):
                    # vectors against scalars: the vectors are in output.<i> (as within a segment)
                    t = t.set_column(i, name, pa.nulls(t.num_rows))
                else:
                    t = t.set_column(i, name, _array([None if v is None else str(v) for v in t.column(name).to_pylist()], pa.string()))
            fixed.append(t)
        return pa.concat_tables(fixed, promote_options="permissive")


def _empty() -> pa.Table:
    return pa.table({name: pa.array([], _TYPES[name]) for name in BASE_COLUMNS})
