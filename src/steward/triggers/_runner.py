"""The server's trigger runner: looks at every trigger on the monitor interval, under a lease.

Every server replica runs one :func:`trigger_runner` in its lifespan. Each look claims the
new events' starts (one start per event across replicas: the unique event key) and runs
their pipelines on a small pool of worker threads, so the event loop keeps serving and a
long pipeline does not hold back the next look.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from steward._background import every_interval

from ._ports import TriggerStart

if TYPE_CHECKING:
    from steward.wiring import Services

__all__ = ["RUNNER_ACTOR", "TriggerRunner", "trigger_runner"]

log = logging.getLogger("steward.triggers.runner")

RUNNER_ACTOR = "steward-trigger"  # who the audit trail names for starts the runner makes
_LEASE_INTERVALS = 3


class TriggerRunner:
    """Claims and runs the starts of one process.

    Args:
        services: the process's services.
        interval: seconds between looks (a trigger's lease lasts three).
        holder: this runner's id in the lease rows (default host:pid:random).
        workers: pipelines run at once.
    """

    def __init__(self, services: Services, interval: float, holder: str | None = None, workers: int = 2) -> None:
        self.services = services
        self.interval = interval
        self.holder = holder or f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="steward-trigger")

    def look(self, now: int | None = None) -> list[Future[TriggerStart]]:
        """Claim the new events' starts and submit their pipelines to the pool."""
        service = self.services.triggers(RUNNER_ACTOR)
        ttl_ms = int(max(self.interval * _LEASE_INTERVALS, 1.0) * 1000)
        return [self.pool.submit(service.run_start, start) for start in service.tick(self.holder, now=now, ttl_ms=ttl_ms)]

    def close(self) -> None:
        # pipelines in flight keep their "running" status; nothing new is started
        self.pool.shutdown(wait=False, cancel_futures=True)


@asynccontextmanager
async def trigger_runner(services: Services, interval: float) -> AsyncIterator[TriggerRunner]:
    """Look at the triggers every ``interval`` seconds in the background while the server runs."""
    runner = TriggerRunner(services, interval)
    try:
        async with every_interval(runner.look, interval, name="trigger runner look", log=log):
            yield runner
    finally:
        runner.close()
