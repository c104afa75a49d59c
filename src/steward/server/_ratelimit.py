"""Rate limiting of failed logins (brute-force defence) and who the client is.

The server counts failures in its database (:class:`SharedRateLimiter`), so that replicas
behind one address count them together: an attacker spreading guesses over the replicas
meets the same limit as against one. The count is read before and written after each
attempt, not locked: replicas answering the same address at the same moment may let a
few more attempts through than the limit, never many. :class:`RateLimiter` is the same
sliding window in memory (one process; it forgets a key once its window has passed).

Failures count against the client address and, for passwords, against the user name
(:class:`LoginLimiter`). A limited address still gets in with a *valid* API token: tokens
are 256 random bits that nobody guesses, so refusing them would only let an attacker who
shares an address (a NAT, a proxy) lock everybody else out. Passwords are guessable, so
a limited address or user is refused before the password is even checked.

The client address is the connecting peer, unless that peer is one of the trusted
proxies (``STEWARD_TRUSTED_PROXIES``): then it is the last address in
``X-Forwarded-For`` that is not itself a trusted proxy (:class:`TrustedProxies`). A client
that is not a trusted proxy cannot choose its address by sending that header.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from starlette.types import Scope

from steward.errors import RateLimitedError
from steward.governance._ports import AuthFailureStore

__all__ = ["LoginLimiter", "RateLimiter", "SharedRateLimiter", "TrustedProxies"]


class _Window:
    """What both limiters share: refusing a blocked key."""

    def blocked_for(self, key: str) -> int:
        raise NotImplementedError

    def failure(self, key: str) -> None:
        raise NotImplementedError

    def check(self, key: str) -> None:
        """Refuse a blocked key.

        Raises:
            RateLimitedError: ``key`` failed ``max_failures`` times within the window.
        """
        retry = self.blocked_for(key)
        if retry:
            raise RateLimitedError(f"too many failed authentication attempts; retry in {retry} s", retry_after=retry)


class RateLimiter(_Window):
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

    def blocked_for(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: it is not blocked)."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is not None and len(times) >= self.max_failures:
                return max(1, math.ceil(times[0] + self.window - now))
            return 0

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


class SharedRateLimiter(_Window):
    """Failures per key over a sliding window, counted in the database (every replica's).

    Args:
        store: where failures are recorded.
        scope: what the keys are ("address" or "user").
        max_failures: failures allowed within the window; one more blocks the key.
        window_seconds: length of the window.
        clock: seconds since the epoch (wall clock: replicas compare each other's times).
    """

    def __init__(
        self, store: AuthFailureStore, scope: str, max_failures: int, window_seconds: float,
        *, clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.scope = scope
        self.max_failures = max_failures
        self.window_ms = int(window_seconds * 1000)
        self._clock = clock

    def blocked_for(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: it is not blocked).

        Raises:
            StorageError: the store cannot be read.
        """
        now = int(self._clock() * 1000)
        recent = self.store.recent_failures(self.scope, key, now - self.window_ms, self.max_failures)
        if len(recent) < self.max_failures:
            return 0
        # free again once the oldest of the newest max_failures failures leaves the window
        return max(1, math.ceil((recent[-1] + self.window_ms - now) / 1000))

    def failure(self, key: str) -> None:
        """Count one failed attempt of ``key`` (and forget everybody's expired ones).

        Raises:
            StorageError: the store cannot be written.
        """
        now = int(self._clock() * 1000)
        self.store.add_failure(self.scope, key, now, forget_before_ms=now - self.window_ms)


class LoginLimiter:
    """Failed logins per client address and per user name.

    Args:
        max_failures: failures allowed per address within the window.
        window_seconds: length of the window.
        user_factor: failures allowed per user name, from all addresses together, as a
            multiple of ``max_failures``: it stops a password guesser that rotates
            addresses, while a user's own typos from one address meet the address limit
            first.
        store: count in this database (shared by the replicas); None: in this process's memory.
        clock: seconds, monotonic (tests pass a fake one; in-memory counting only).
    """

    def __init__(
        self, max_failures: int, window_seconds: float, *, user_factor: int = 5,
        store: AuthFailureStore | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.addresses: _Window
        self.users: _Window
        if store is not None:
            self.addresses = SharedRateLimiter(store, "address", max_failures, window_seconds)
            self.users = SharedRateLimiter(store, "user", max_failures * user_factor, window_seconds)
        else:
            self.addresses = RateLimiter(max_failures, window_seconds, clock=clock)
            self.users = RateLimiter(max_failures * user_factor, window_seconds, clock=clock)

    def check_password(self, user: str, address: str) -> None:
        """Refuse a password attempt from a limited address or for a limited user.

        Raises:
            RateLimitedError: either is limited.
        """
        self.addresses.check(address)
        self.users.check(user)

    def address_blocked_for(self, address: str) -> int:
        """Seconds until ``address`` may try a failing credential again (0: not limited)."""
        return self.addresses.blocked_for(address)

    def failure(self, address: str, user: str | None = None) -> None:
        """Count a failed login from ``address`` (and against ``user``, for a password)."""
        self.addresses.failure(address)
        if user:
            self.users.failure(user)


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed, and the client of a request.

    Args:
        entries: addresses or CIDR networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``).
    """

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)

    def __contains__(self, host: object) -> bool:
        if not self.networks or not isinstance(host, str):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, scope: Scope) -> str:
        """The client address of a request: the peer, or what a trusted proxy says it forwarded for."""
        peer = scope.get("client")
        host = str(peer[0]) if peer else "unknown"
        if host not in self:
            return host
        hops = [
            hop.strip()
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
            if hop.strip()
        ]
        # each proxy appends the address it saw: the first untrusted one from the right is
        # the client, whatever a client wrote further left
        for hop in reversed(hops):
            address = _host_of(hop)
            if address not in self:
                return address[:100]
        return host


def _host_of(hop: str) -> str:
    """``203.0.113.7:5123`` -> ``203.0.113.7``; ``[2001:db8::1]:443`` -> ``2001:db8::1``."""
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop
