"""Times as the CLI shows and accepts them: ISO-8601 UTC, and durations such as ``7d``."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from steward.errors import InvalidInputError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def parse_duration(text: str, *, field: str = "duration") -> float:
    """Seconds in ``30s``, ``15m``, ``12h``, ``7d`` or ``2w``.

    Raises:
        InvalidInputError: for anything else.
    """
    match = _DURATION.match(text.strip())
    if match is None:
        raise InvalidInputError(
            f"{field} must be a duration such as 30s, 15m, 12h, 7d or 2w", field=field
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_since(text: str, *, now: float | None = None, field: str = "since") -> int:
    """Milliseconds since the epoch for ``7d`` (that long ago) or an ISO-8601 time.

    An ISO time without an offset is taken as UTC, since Steward stores UTC.

    Raises:
        InvalidInputError: when ``text`` is neither a duration nor an ISO-8601 time.
    """
    text = text.strip()
    if _DURATION.match(text):
        reference = time.time() if now is None else now
        return int((reference - parse_duration(text, field=field)) * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{field} must be a duration such as 7d or an ISO-8601 time such as 2024-05-01T12:00:00Z",
            field=field,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def format_time(ms: int | None) -> str:
    """``2024-05-01T12:00:00Z`` for milliseconds since the epoch; ``-`` for None."""
    if ms is None:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def format_elapsed(start_ms: int, end_ms: int | None) -> str:
    """A run's duration as ``42s``, ``3m 05s`` or ``2h 10m``; ``-`` while it runs."""
    if end_ms is None:
        return "-"
    seconds = max(0, (end_ms - start_ms) // 1000)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
