"""Rows as both online stores write them: per view, ``(entity_key, event_ms, values JSON)``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from steward.features._ports import OnlineRow

__all__ = ["encoded_by_view"]


def encoded_by_view(rows: Sequence[OnlineRow]) -> dict[str, list[tuple[str, int, str]]]:
    """``rows`` grouped by view, values encoded as compact JSON, in their order."""
    grouped: dict[str, list[tuple[str, int, str]]] = {}
    for r in rows:
        grouped.setdefault(r.view, []).append((r.entity_key, int(r.event_ms), json.dumps(r.values, separators=(",", ":"))))
    return grouped
