"""The server's webhook delivery worker: one round every few seconds, in the background.

Every server replica runs one; a round takes the delivery lease first (see
:meth:`~steward.webhooks.WebhookService.deliver`), so only one replica reads the audit trail
and sends at a time, and a delivery is never sent twice at once. A failing round (the store
is down) is logged and tried again; it never stops the server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from steward._background import every_interval

if TYPE_CHECKING:
    from steward.wiring import Services

__all__ = ["DEFAULT_INTERVAL_S", "WORKER_ACTOR", "webhook_worker"]

log = logging.getLogger("steward.webhooks")

WORKER_ACTOR = "steward-webhooks"  # who the audit trail names for the worker's own entries
DEFAULT_INTERVAL_S = 2.0  # how soon after a change its event is sent (and a due retry)


@asynccontextmanager
async def webhook_worker(services: Services, interval: float = DEFAULT_INTERVAL_S) -> AsyncIterator[None]:
    """Run a delivery round every ``interval`` seconds while the server runs."""
    service = services.webhooks(WORKER_ACTOR)
    async with every_interval(service.deliver, interval, name="webhook delivery round", log=log):
        yield
