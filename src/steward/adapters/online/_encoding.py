"""Rows as both online stores write them: per view, ``(entity_key, event_ms, values JSON)``;
and the lookup side's grouping of ``(view, entity key)`` pairs into few statements."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from steward.features._ports import OnlineRow

__all__ = ["encoded_by_view", "grouped_lookups"]


def encoded_by_view(rows: Sequence[OnlineRow]) -> dict[str, list[tuple[str, int, str]]]:
    """``rows`` grouped by view, values encoded as compact JSON, in their order."""
    grouped: dict[str, list[tuple[str, int, str]]] = {}
    for r in rows:
        grouped.setdefault(r.view, []).append((r.entity_key, int(r.event_ms), orjson.dumps(r.values).decode()))
    return grouped


def grouped_lookups(keys: Sequence[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """``(views, entity keys)`` groups covering ``keys``: views asked for the same entity keys
    (the views of one entity, the common case) share one group, so a lookup of 100 entities
    in 10 views is one statement of 10 x 100 keys rather than 1,000 lookups."""
    by_view: dict[str, dict[str, None]] = {}
    for view, key in keys:
        by_view.setdefault(view, {})[key] = None
    groups: dict[tuple[str, ...], list[str]] = {}
    for view, wanted in by_view.items():
        groups.setdefault(tuple(wanted), []).append(view)
    return [(views, list(wanted)) for wanted, views in groups.items()]
