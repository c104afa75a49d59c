"""Adaptive micro-batching: concurrent requests to one model share one ``predict`` call.

A batch leaves as soon as the model is free, unless requests are still being read (their
bodies arriving or being parsed): then it waits for them, up to ``max_wait`` after its
oldest request arrived, and never past ``max_batch`` rows. Under low load a request is
not held at all; under high load the requests that arrive while the model is busy form
the next batch. The model runs on a thread of its own, so the event loop keeps reading
requests (and a shadow variant never holds up the primary's thread).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ._payloads import Outputs, Rows, concat_rows, slice_outputs

__all__ = ["INLINE_BELOW_S", "Inflow", "MicroBatcher"]

INLINE_BELOW_S = 0.002
_SMOOTHING = 0.2  # weight of the latest batch in the moving average of predict time


class Inflow:
    """Requests of this process being read: batchers wait for them, up to their bound."""

    def __init__(self) -> None:
        self.reading = 0
        self._listeners: list[asyncio.Event] = []

    def start(self) -> None:
        self.reading += 1

    def done(self) -> None:
        self.reading -= 1
        for event in self._listeners:
            event.set()

    def listen(self, event: asyncio.Event) -> None:
        self._listeners.append(event)

    def forget(self, event: asyncio.Event) -> None:
        if event in self._listeners:
            self._listeners.remove(event)


@dataclass(slots=True)
class _Item:
    rows: Rows
    future: asyncio.Future[tuple[Outputs, float]]  # the outputs and the request's share of the CPU-seconds
    arrived: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Queue of one model's requests, drained in batches by one task.

    Args:
        run: the blocking predict of a batch (called on the batcher's own thread).
        max_batch: most rows in one call; a request larger than this runs alone.
        max_wait_s: longest a request is held waiting for companions.
        inflow: the process's requests being read.
        on_batch: called with each batch's row count (metrics).
    """

    def __init__(
        self, run: Callable[[Rows], Outputs], *, max_batch: int, max_wait_s: float, inflow: Inflow,
        on_batch: Callable[[int], None] | None = None, name: str = "model",
    ) -> None:
        self.run = run
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.inflow = inflow
        self.on_batch = on_batch
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"predict-{name}")
        self._pending: deque[_Item] = deque()
        self._rows = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # moving average of a batch's predict time; unknown (inf) until the thread has timed one
        self.predict_s = float("inf")

    async def predict(self, rows: Rows) -> Outputs:
        """The model's outputs for ``rows``, predicted together with concurrent requests."""
        return (await self.predict_measured(rows))[0]

    async def predict_measured(self, rows: Rows) -> tuple[Outputs, float]:
        """The outputs for ``rows`` and the CPU-seconds their prediction took.

        The CPU time is the predicting thread's (``time.thread_time``) around the model call,
        so the event loop and the other threads of the process are not counted; a batch's
        CPU time is shared among its requests by rows.
        """
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
            self.inflow.listen(self._wake)
        future: asyncio.Future[tuple[Outputs, float]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(rows, future))
        self._rows += rows.n
        self._wake.set()
        return await future

    async def close(self) -> None:
        """Stop after the queued requests are answered."""
        while self._pending:
            await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            self.inflow.forget(self._wake)
        self._executor.shutdown(wait=True)

    def _take(self) -> list[_Item]:
        batch = [self._pending.popleft()]
        rows = batch[0].rows.n
        while self._pending and rows + self._pending[0].rows.n <= self.max_batch:
            item = self._pending.popleft()
            rows += item.rows.n
            batch.append(item)
        self._rows -= rows
        return batch

    def _timed(self, rows: Rows) -> tuple[Outputs, float]:
        started = time.perf_counter()
        cpu = time.thread_time()
        try:
            outputs = self.run(rows)
            return outputs, time.thread_time() - cpu
        finally:
            # the predict alone, wherever it ran: a thread hop under load must not count
            took = time.perf_counter() - started
            self.predict_s = took if self.predict_s == float("inf") else (1 - _SMOOTHING) * self.predict_s + _SMOOTHING * took

    async def _call(self, loop: asyncio.AbstractEventLoop, rows: Rows) -> tuple[Outputs, float]:
        if self.predict_s < INLINE_BELOW_S:
            return self._timed(rows)
        return await loop.run_in_executor(self._executor, self._timed, rows)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._wake.clear()
                await self._wake.wait()
            deadline = self._pending[0].arrived + self.max_wait_s
            # hold the batch only while more requests are on their way and it has room
            while self._rows < self.max_batch and self.inflow.reading > 0:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                self._wake.clear()
                timer = loop.call_later(remaining, self._wake.set)
                await self._wake.wait()
                timer.cancel()
            batch = self._take()
            merged = concat_rows([item.rows for item in batch])
            if self.on_batch is not None:
                self.on_batch(merged.n)
            try:
                outputs, cpu_s = await self._call(loop, merged)
            except Exception as exc:  # noqa: BLE001 - the model's failure goes to each waiting request
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            start = 0
            for item in batch:
                stop = start + item.rows.n
                if not item.future.done():
                    share = cpu_s * item.rows.n / merged.n if merged.n else cpu_s
                    item.future.set_result((outputs if len(batch) == 1 else slice_outputs(outputs, start, stop), share))
                start = stop
