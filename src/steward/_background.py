"""One background loop for the server's periodic work (monitors, triggers, webhook deliveries)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


@asynccontextmanager
async def every_interval(work: Callable[[], object], interval: float, *, name: str, log: logging.Logger) -> AsyncIterator[None]:
    """Run ``work`` in a thread every ``interval`` seconds while the context is open.

    Database, file and network I/O stay off the event loop. A round that raises is logged
    as ``"<name> failed: ..."`` and the next round tries again (the store may be down for a
    while); leaving the context cancels the loop.
    """

    async def loop() -> None:
        while True:
            try:
                await asyncio.to_thread(work)
            except Exception as exc:  # noqa: BLE001 - the store is down or a bug: the next round tries again
                log.warning("%s failed: %s", name, exc)
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop(), name=f"steward-{name.replace(' ', '-')}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
