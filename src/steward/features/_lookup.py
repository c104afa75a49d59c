"""Serving-time lookup: complete requests that carry only entity keys (and request-time
features) with the online values a model needs, in one round trip to the online store.

A serving process (``steward serve --deployment``) calls it for a deployment that declares
the features its model needs (``steward deploy create --features``); see docs/serving.md,
"Feature lookup".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.core.features import parse_feature_refs
from steward.errors import InvalidInputError

from ._service import FeatureService

__all__ = ["FeatureLookup", "LookedUp"]


@dataclass(frozen=True, slots=True)
class LookedUp:
    """Completed model inputs and, per row, what was used (for the prediction log)."""

    rows: list[dict[str, Any]]  # Any: feature and key values
    used: list[dict[str, Any]]  # Any: {"values", "event_times", "status", "missing"} per row


class FeatureLookup:
    """Completes request rows with ``features`` (``view:feature``) from the online store.

    Example:
        >>> lookup = FeatureLookup(services.features(), ["fraud_stats:txn_count_7d"])  # doctest: +SKIP
        >>> lookup.complete([{"customer_id": 42, "amount": 12.5}]).rows  # doctest: +SKIP
        [{'customer_id': 42, 'amount': 12.5, 'txn_count_7d': 3}]
    """

    def __init__(self, service: FeatureService, features: Sequence[str]) -> None:
        self.service = service
        self.features = [str(r) for r in parse_feature_refs(features)]
        self._names = {r.split(":", 1)[1] for r in self.features}
        self._keys: frozenset[str] | None = None

    @property
    def names(self) -> frozenset[str]:
        """The feature names (columns) this lookup adds to each row."""
        return frozenset(self._names)

    def join_keys(self) -> frozenset[str]:
        """Every join key a request row must carry (of every view looked up); read once per
        lookup (a serving process builds a new lookup when the declaration changes)."""
        if self._keys is None:
            _refs, stored, chosen = self.service._plan(self.features, cached=True)
            self._keys = frozenset(k for name in chosen for k in stored[name].view.join_keys)
        return self._keys

    def complete(self, records: Sequence[Mapping[str, Any]]) -> LookedUp:  # Any: JSON values
        """Rows with the looked-up features added; a missing entity gets nulls (and ``missing``).

        Raises:
            InvalidInputError: a row already carries a looked-up feature (a request must not
                override what training used), or lacks a join key.
        """
        for i, record in enumerate(records):
            clash = sorted(self._names & set(record))
            if clash:
                raise InvalidInputError(f"row {i} carries {', '.join(clash)}, which the feature store supplies", field=clash[0])
        found = self.service.online(records, self.features)
        rows = [{**record, **row["values"]} for record, row in zip(records, found.rows, strict=True)]
        used = [{k: row[k] for k in ("values", "event_times", "status", "missing")} for row in found.rows]
        return LookedUp(rows, used)
