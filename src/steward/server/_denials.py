"""Auditing refused requests (``auth.denied``) without ever failing the refusal itself.

Every refusal is audited: 401 and 429 answered by the authentication middleware, 403
from the permission check, and any 401/403/429 a route or a service raises (a
non-administrator asking for a never-expiring token). The middleware watches each
response's status; a refusal nobody recorded on the way (:func:`record_denial` marks the
request) is recorded from the status and the error message of the response.

Refusals that come in floods, 429 and requests without any credential, are counted per
(address, user, status) and written as one entry per window with a ``count``
(:class:`RefusalBursts`): an attacker hammering the server cannot flood the audit trail.
The bursts are counted in each server process's memory, by design: replicas behind one
address each write their own entry per window (at most one per replica, address and
window), and a process killed outright loses the counts of its open windows only, never a
refusal that changed anything (docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from steward.errors import StewardError
from steward.tracking import now_ms
from steward.wiring import Services

__all__ = [
    "REFUSALS",
    "Burst",
    "RefusalBursts",
    "RefusalMark",
    "begin_request",
    "record_bursts",
    "record_denial",
    "refusal_reason",
    "was_recorded",
]

log = logging.getLogger("steward.server")

REFUSALS = frozenset({401, 403, 429})


class RefusalMark:
    """Whether a refusal of the current request has been audited already."""

    __slots__ = ("recorded",)

    def __init__(self) -> None:
        self.recorded = False


# One mark per request, set by the middleware. A context variable reaches the thread pool
# (which copies the context, sharing the mark object) where the permission check runs.
_MARK: ContextVar[RefusalMark | None] = ContextVar("steward_denial_mark", default=None)


def begin_request() -> RefusalMark:
    """Start watching one request for refusals recorded on the way (the middleware calls it)."""
    mark = RefusalMark()
    _MARK.set(mark)
    return mark


def was_recorded(mark: RefusalMark) -> bool:
    """True when :func:`record_denial` ran for this request."""
    return mark.recorded


def record_denial(services: Services, actor: str, method: str, path: str, reason: str, client: str | None) -> None:
    """Append an ``auth.denied`` entry: who (or ``anonymous``), the operation and why.

    Credentials never reach here, only the caller's name. A store that cannot be written
    is logged; the request is refused either way.
    """
    mark = _MARK.get()
    if mark is not None:
        mark.recorded = True
    try:
        services.audit().record_denied(actor, method, path, reason, client=client)
    except StewardError as exc:
        log.warning("could not audit a refused request: %s", exc.message)


def refusal_reason(body: bytes, status: int) -> str:
    """The error message of a refusal's JSON body (Steward's or MLflow's shape)."""
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict):
        inner = parsed.get("error")
        message = inner.get("message") if isinstance(inner, dict) else parsed.get("message")
        if isinstance(message, str) and message:
            return message
    return f"refused with HTTP {status}"


@dataclass(slots=True)
class Burst:
    """Refusals of one (address, user, status) within one window."""

    client: str
    user: str | None
    status: int
    method: str
    path: str
    reason: str
    first_at: int  # ms since the epoch
    last_at: int
    count: int
    opened: float  # monotonic seconds


class RefusalBursts:
    """Flooding refusals, counted per (address, user, status) and closed once per window.

    Args:
        window_seconds: how long a burst stays open (one audit entry per window and key).
        max_open: bursts counted at once; past it the oldest is closed early, so a flood
            from many addresses costs bounded memory (and some more entries).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, window_seconds: float, *, max_open: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.max_open = max_open
        self._clock = clock
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[str, str | None, int], Burst] = OrderedDict()
        self._next_sweep = 0.0

    def add(self, client: str, user: str | None, status: int, method: str, path: str, reason: str) -> list[Burst]:
        """Count one refusal; returns the bursts that closed (to be audited now)."""
        key = (client, user, status)
        now, wall = self._clock(), now_ms()
        closed: list[Burst] = []
        with self._lock:
            burst = self._open.get(key)
            if burst is not None and now - burst.opened >= self.window:
                closed.append(self._open.pop(key))
                burst = None
            if burst is None:
                self._open[key] = Burst(client, user, status, method, path, reason, wall, wall, 1, now)
                while len(self._open) > self.max_open:
                    closed.append(self._open.popitem(last=False)[1])
            else:
                burst.count += 1
                burst.last_at = wall
        return closed

    def due(self) -> list[Burst]:
        """Bursts whose window has passed (looked for at most once a second)."""
        now = self._clock()
        with self._lock:
            if now < self._next_sweep or not self._open:
                return []
            self._next_sweep = now + 1.0
            expired = [key for key, burst in self._open.items() if now - burst.opened >= self.window]
            return [self._open.pop(key) for key in expired]

    def drain(self) -> list[Burst]:
        """Every open burst (at shutdown)."""
        with self._lock:
            bursts = list(self._open.values())
            self._open.clear()
            return bursts


def record_bursts(services: Services, bursts: list[Burst]) -> None:
    """Audit each burst as one ``auth.denied`` entry with its count and time span."""
    for burst in bursts:
        extra: dict[str, object] = {
            "status": burst.status, "count": burst.count, "first_at": burst.first_at, "last_at": burst.last_at,
        }
        if burst.user:
            extra["user"] = burst.user[:64]
        try:
            services.audit().record_denied(
                "anonymous", burst.method, burst.path, burst.reason, client=burst.client, extra=extra
            )
        except StewardError as exc:
            log.warning("could not audit %d refused requests: %s", burst.count, exc.message)
