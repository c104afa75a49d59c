"""Auditing refused requests (``auth.denied``) without ever failing the refusal itself."""

from __future__ import annotations

import logging

from steward.errors import StewardError
from steward.wiring import Services

__all__ = ["record_denial"]

log = logging.getLogger("steward.server")


def record_denial(services: Services, actor: str, method: str, path: str, reason: str, client: str | None) -> None:
    """Append an ``auth.denied`` entry: who (or ``anonymous``), the operation and why.

    Credentials never reach here, only the caller's name. A store that cannot be written
    is logged; the request is refused either way.
    """
    try:
        services.audit().record_denied(actor, method, path, reason, client=client)
    except StewardError as exc:
        log.warning("could not audit a refused request: %s", exc.message)
