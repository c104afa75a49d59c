"""Rate limiting of failed authentications per client address (brute-force defence).

A small in-memory sliding window, one per server process, kept on ``app.state``; it
forgets an address once its window has passed. Replicas count separately, which is
enough to make guessing tokens or passwords impractical.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from steward.errors import RateLimitedError

__all__ = ["RateLimiter"]


class RateLimiter:
    """Count failures per key (a client address) over a sliding window.

    Args:
        max_failures: failures allowed within the window; one more blocks the key.
        window_seconds: length of the window.
        max_keys: addresses remembered at most; the least recently failing are dropped
            first, so a flood of spoofed addresses cannot exhaust memory.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def check(self, key: str) -> None:
        """Refuse a blocked key.

        Raises:
            RateLimitedError: ``key`` failed ``max_failures`` times within the window.
        """
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is not None and len(times) >= self.max_failures:
                retry = max(1, math.ceil(times[0] + self.window - now))
                raise RateLimitedError(
                    f"too many failed authentication attempts; retry in {retry} s", retry_after=retry
                )

    def failure(self, key: str) -> None:
        """Count one failed attempt of ``key``."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = deque()
            times.append(now)
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
