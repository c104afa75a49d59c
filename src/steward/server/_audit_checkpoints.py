"""The server's signed audit checkpoints: one every ``audit_checkpoint_interval`` seconds
while it runs (when the head moved) and one on shutdown.

Checkpoints let ``steward audit verify`` notice entries cut off the end of the audit
table (see :mod:`steward.governance._audit_checkpoints`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from steward.wiring import Services

__all__ = ["audit_checkpoints"]

log = logging.getLogger("steward.audit")


class _Writer:
    """Writes one checkpoint at a time; a failure is logged once until it changes or clears."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._last_failure: str | None = None

    def write(self) -> None:
        try:
            written = self._services.audit(create_key=True).checkpoint()
        except Exception as exc:  # noqa: BLE001 - any store or key error is logged; serving goes on
            message = str(exc)
            log.log(logging.DEBUG if message == self._last_failure else logging.WARNING, "audit checkpoint not written: %s", message)
            self._last_failure = message
            return
        self._last_failure = None
        if written is not None:
            log.debug("audit checkpoint written at entry %s", written.entry_id)


@asynccontextmanager
async def audit_checkpoints(services: Services, interval: float) -> AsyncIterator[None]:
    """Checkpoint the audit head every ``interval`` seconds in the background, and once on exit."""
    writer = _Writer(services)

    async def every_interval() -> None:
        while True:
            await asyncio.sleep(interval)
            await asyncio.to_thread(writer.write)  # database and file I/O stay off the event loop

    task = asyncio.create_task(every_interval(), name="steward-audit-checkpoints")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(writer.write)
