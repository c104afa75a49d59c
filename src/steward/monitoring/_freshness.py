"""Feature staleness as an alert metric: ``feature.staleness_seconds.<view>``.

The value is the age, in seconds, of the newest value of the view in the online store
(what ``/metrics`` shows as ``steward_feature_freshness_seconds``). A view never
materialised counts as stale since it was registered, so a rule on it fires too instead of
staying silent. A rule naming a view that does not exist observes no value: the alert
service records that window as an insufficient sample (``steward alerts show`` says so).

The server's monitor runner evaluates these rules on every look when ``STEWARD_ALERT_RULES``
names a rule file (under a lease, so one replica evaluates them); :func:`evaluate_staleness`
is the same step for a script or a test.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from steward.core.alerts import Observation
from steward.features import FeatureService, StoredView

from ._alert_rules import RuleSet
from ._alert_service import AlertService, Evaluation

__all__ = ["STALENESS_PREFIX", "evaluate_staleness", "staleness_observations", "watches_staleness"]

STALENESS_PREFIX = "feature.staleness_seconds."


def watches_staleness(rules: RuleSet) -> bool:
    """True when a rule of ``rules`` watches a feature view's staleness."""
    return any(r.metric.startswith(STALENESS_PREFIX) for r in rules.rules)


def staleness_observations(views: Iterable[StoredView], now_ms: int, watched: Iterable[str] = ()) -> dict[str, Observation]:
    """``{feature.staleness_seconds.<view>: Observation}`` for every view (and None for a watched
    view that does not exist)."""
    found: dict[str, Observation] = {}
    for stored in views:
        since = stored.newest_value_at if stored.newest_value_at is not None else stored.created_at
        found[STALENESS_PREFIX + stored.view.name] = Observation(now_ms, max(0.0, (now_ms - since) / 1000), 1)
    for metric in watched:
        if metric.startswith(STALENESS_PREFIX) and metric not in found:
            found[metric] = Observation(now_ms, None, 0)
    return found


def evaluate_staleness(alerts: AlertService, features: FeatureService, rules: RuleSet, *, now_ms: int | None = None) -> Evaluation | None:
    """Apply the current staleness of every feature view to the rules watching it.

    Returns:
        The evaluation, or None when no rule watches a view's staleness.
    """
    if not watches_staleness(rules):
        return None
    at = int(time.time() * 1000) if now_ms is None else now_ms
    watched = [r.metric for r in rules.rules if r.metric.startswith(STALENESS_PREFIX)]
    return alerts.evaluate(rules, staleness_observations(features.list_views(), at, watched))
