"""The prediction log's writer: a bounded queue drained by one background thread.

``append`` is the only call on the request path. It samples, then hands the batch to a
bounded queue without waiting: when the queue is full the batch is dropped and counted,
so a slow artifact store can never slow a response. The writer thread turns batches into
rows of the deployment's open segment and rotates the segment by rows, estimated bytes
or age; a rotated segment is written atomically to the artifact store and only then
indexed in the metadata store. A crash therefore loses the open segment and the queue,
and nothing a reader can see.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from steward.core.predictions import PredictionBatch
from steward.errors import ConflictError, StewardError
from steward.settings import Settings

from ._ports import PredictionIndex, SegmentFiles, SegmentInfo
from ._segments import SegmentBuffer, encode_segment, schema_of, segment_path, validate_deployment

__all__ = ["LogOptions", "LogStats", "PredictionLog"]

log = logging.getLogger("steward.predictions")

# how often the writer wakes when idle, to rotate segments by age
_TICK_S = 0.5
_WRITE_ATTEMPTS = 3
_MASK = (1 << 32) - 1
_SPAN = float(1 << 32)


@dataclass(frozen=True, slots=True)
class LogOptions:
    """How the log samples, what it keeps and when it rotates (see the ``prediction_*`` settings).

    Attributes:
        sample_rate: fraction of requests logged (0..1), decided per request id, so a
            request's primary and shadow answers are logged together or not at all.
        log_inputs: keep the input columns (off: outputs and metadata only, for privacy).
        max_rows: rotate a segment at this many rows.
        max_bytes: rotate a segment at this estimated uncompressed size.
        max_seconds: rotate a segment this long after its first row arrived.
        queue_size: batches waiting for the writer before appends are dropped.
    """

    sample_rate: float = 1.0
    log_inputs: bool = True
    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    max_seconds: float = 60.0
    queue_size: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> LogOptions:
        """The options the ``STEWARD_PREDICTION_*`` settings give."""
        return cls(
            sample_rate=settings.prediction_sample_rate,
            log_inputs=settings.prediction_log_inputs,
            max_rows=settings.prediction_segment_max_rows,
            max_bytes=settings.prediction_segment_max_bytes,
            max_seconds=settings.prediction_segment_max_seconds,
            queue_size=settings.prediction_queue_size,
        )


@dataclass(frozen=True, slots=True)
class LogStats:
    """Counters of one log since it was built (or since this process forked).

    Attributes:
        accepted: batches the writer took from the queue.
        sampled_out: batches left out by sampling.
        dropped: batches dropped because the queue was full (or the log closed).
        rejected: batches that could not be logged (bad name or shape).
        queued: batches waiting now.
        rows_written: rows in indexed segments.
        segments_written: indexed segments.
        rows_lost: rows of segments the store refused after retries.
    """

    accepted: int
    sampled_out: int
    dropped: int
    rejected: int
    queued: int
    rows_written: int
    segments_written: int
    rows_lost: int


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class PredictionLog:
    """A :class:`~steward.core.predictions.PredictionSink` writing Parquet segments.

    Args:
        index: the segment index (metadata store).
        files: where segment files go (artifact store).
        options: sampling, privacy, rotation and queue bounds.
        clock: a monotonic clock in seconds, for segment ages.

    Example:
        >>> sink = services.prediction_log()  # doctest: +SKIP
        >>> sink.append(batch)  # returns at once; never raises
    """

    def __init__(
        self, index: PredictionIndex, files: SegmentFiles, options: LogOptions, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._index = index
        self._files = files
        self.options = options
        self._clock = clock
        self._reset()
        # a process forked after the log was built (a pre-fork server) gets a log of its own:
        # the parent's thread and buffered rows do not exist in the child
        os.register_at_fork(after_in_child=functools.partial(_reset_after_fork, weakref.ref(self)))

    def _reset(self) -> None:
        self._lock = threading.Lock()  # a lock held by another thread at fork time stays held in the child
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self.options.queue_size)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._buffers: dict[str, tuple[SegmentBuffer, float]] = {}
        self._sampled_out = self._dropped = self._rejected = self._accepted = 0
        self._rows_written = self._segments_written = self._rows_lost = 0

    # -- the request path ------------------------------------------------------------------

    def append(self, batch: PredictionBatch) -> None:
        """Queue ``batch`` for the log; returns at once and never raises.

        A batch left out by sampling, or dropped because the queue is full, is counted
        (:meth:`stats`).
        """
        try:
            rate = self.options.sample_rate
            # str's hash is cached on the string and uniform over random ids; per process, which is
            # where a request and its shadow are answered
            if rate < 1.0 and (hash(batch.request_id) & _MASK) >= rate * _SPAN:
                with self._lock:
                    self._sampled_out += 1
                return
            if self._thread is None:
                self._start()
            if self._closed:
                raise queue.Full
            self._queue.put_nowait(batch)
        except queue.Full:
            with self._lock:
                self._dropped += 1
        except Exception:  # never into the request: the answer matters more than its log line
            log.exception("prediction log: append failed")

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="steward-prediction-log", daemon=True)
                self._thread.start()

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float = 30.0) -> bool:
        """Write every open segment now (what was appended before the call). Blocks.

        Returns:
            True when the writer finished within ``timeout`` seconds.
        """
        if self._closed:
            return True
        if self._thread is None:
            self._start()
        request = _Flush()
        try:
            self._queue.put(request, timeout=timeout)
        except queue.Full:
            return False
        return request.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and buffered, then stop the writer (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            log.warning("prediction log: the writer did not drain its queue within %.0f s", timeout)
            return
        thread.join(timeout)

    def stats(self) -> LogStats:
        """The counters (see :class:`LogStats`)."""
        with self._lock:
            return LogStats(
                self._accepted, self._sampled_out, self._dropped, self._rejected, self._queue.qsize(),
                self._rows_written, self._segments_written, self._rows_lost,
            )

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._wait())
            except queue.Empty:
                item = None
            try:
                if item is _STOP:
                    self._write_all()
                    return
                if isinstance(item, _Flush):
                    try:
                        self._write_all()
                    finally:
                        item.done.set()
                elif isinstance(item, PredictionBatch):
                    self._add(item)
                self._rotate_by_age()
            except Exception:  # the writer outlives any one bad batch or store hiccup
                log.exception("prediction log: writer error")
                if item is _STOP:
                    return

    def _wait(self) -> float:
        if not self._buffers:
            return _TICK_S
        oldest = min(opened for _buf, opened in self._buffers.values())
        return max(0.0, min(_TICK_S, oldest + self.options.max_seconds - self._clock()))

    def _add(self, batch: PredictionBatch) -> None:
        with self._lock:
            self._accepted += 1
        try:
            validate_deployment(batch.deployment)
            entry = self._buffers.get(batch.deployment)
            if entry is None:
                entry = self._buffers[batch.deployment] = (SegmentBuffer(batch.deployment), self._clock())
            entry[0].add(batch, log_inputs=self.options.log_inputs)
        except (StewardError, ValueError, TypeError, AttributeError) as exc:  # a bad name, shape or value
            with self._lock:
                self._rejected += 1
            log.warning("prediction log: batch of request %.64s not logged: %s", getattr(batch, "request_id", "?"), exc)
            return
        buffer = entry[0]
        if buffer.rows >= self.options.max_rows or buffer.approx_bytes >= self.options.max_bytes:
            self._write(batch.deployment)

    def _rotate_by_age(self) -> None:
        now = self._clock()
        for deployment, (_buf, opened) in list(self._buffers.items()):
            if now - opened >= self.options.max_seconds:
                self._write(deployment)

    def _write_all(self) -> None:
        for deployment in list(self._buffers):
            self._write(deployment)

    def _write(self, deployment: str) -> None:
        buffer, _opened = self._buffers.pop(deployment)
        if buffer.rows == 0 or buffer.min_time is None or buffer.max_time is None:
            return
        table = buffer.to_table()
        data = encode_segment(table)
        path = segment_path(deployment, buffer.min_time)
        info = SegmentInfo(
            deployment, path, buffer.min_time, buffer.max_time, buffer.rows, len(data), schema_of(table), int(time.time() * 1000)
        )
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                # durable first, indexed second: a crash in between leaves a file no reader sees
                self._files.write_atomic(path, data)
                try:
                    self._index.add_segment(info)
                except ConflictError:
                    pass  # an earlier attempt's row committed though its answer was lost
            except Exception as exc:  # noqa: BLE001 - any store failure: retry, then count the rows as lost
                log.warning("prediction log: writing segment %s failed (attempt %d): %s", path, attempt + 1, exc)
                time.sleep(0.2 * 2**attempt)
                continue
            with self._lock:
                self._rows_written += buffer.rows
                self._segments_written += 1
            return
        with self._lock:
            self._rows_lost += buffer.rows
        log.error("prediction log: %d rows of %s lost: the store refused the segment", buffer.rows, deployment)


def _reset_after_fork(ref: weakref.ReferenceType[PredictionLog]) -> None:
    log_ = ref()
    if log_ is not None:
        log_._reset()
