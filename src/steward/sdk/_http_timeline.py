"""A registered model's timeline through the server's REST API, with the same results and
errors as :class:`~steward.registry.TimelineService` (which the embedded client uses)."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from steward.registry._timeline import Timeline, TimelineEvent

from ._http import HttpBackend

__all__ = ["HttpTimeline", "TimelineBackend", "timeline_from_dict"]


class TimelineBackend(Protocol):
    """Where a model's timeline is read: the embedded service or the server."""

    def get_timeline(self, name: str, *, after: int = 0, max_results: int = 1000) -> Timeline: ...


def timeline_from_dict(doc: dict[str, Any]) -> Timeline:  # Any: JSON
    """The :class:`Timeline` a server sent (the inverse of ``Timeline.to_dict``)."""
    events = tuple(
        TimelineEvent(
            int(e["entry_id"]), int(e["timestamp"]), str(e["actor"]), str(e["action"]), str(e["kind"]), str(e["target"]),
            tuple(int(v) for v in e.get("versions", [])), dict(e.get("details") or {}),
        )
        for e in doc.get("events", [])
    )
    nxt = doc.get("next_after")
    return Timeline(str(doc["model"]), events, None if nxt is None else int(nxt))


class HttpTimeline:
    """:class:`TimelineBackend` over a server.

    Example:
        >>> Client().timeline.get_timeline("fraud").events[-1].kind  # doctest: +SKIP
        'deployment promote'
    """

    def __init__(self, http: HttpBackend) -> None:
        self.http = http

    def get_timeline(self, name: str, *, after: int = 0, max_results: int = 1000) -> Timeline:
        doc = self.http._call("GET", f"/models/{quote(name, safe='')}/timeline", params={"after": after, "max_results": max_results})
        return timeline_from_dict(doc)
