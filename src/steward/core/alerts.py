"""Alert rules and their state machine: one observation in, the new state and its events out.

A rule watches one metric (``drift.share``, ``drift.feature.amount.effect``,
``quality.roc_auc``, ``health.p99_ms``, ``cost.per_1k``, ...) of one window at a time.
Its state is *inactive*, *pending* (the condition holds, but not yet for ``for_ms``) or
*firing*. Given the previous state and one new :class:`Observation`, :func:`step` returns
the next state and what happened:

    inactive --breach--> pending --breach held for for_ms--> firing --no breach--> inactive
    (for_ms == 0: inactive --breach--> firing at once)   pending --no breach--> inactive

A window with fewer than ``min_sample`` rows, or without a value, says nothing about the
metric: the state is kept as it was and an ``insufficient_sample`` event is reported, so
a quiet night never resolves an alert nor starts one. An observation older than the last
one seen is ignored (monitors may retry a window). No I/O here: the same inputs always
give the same state and events.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field

__all__ = [
    "METRIC_FORMS",
    "AlertEvent",
    "AlertRule",
    "AlertState",
    "AlertStatus",
    "Comparison",
    "EventKind",
    "Observation",
    "is_known_metric",
    "parse_duration_ms",
    "step",
]

# Every metric a rule may name: exact names and ``<...>`` placeholders for a column or a metric.
METRIC_FORMS: tuple[str, ...] = (
    "drift.share",
    "drift.multivariate.roc_auc",
    "drift.prediction.effect",
    "drift.feature.<column>.effect",
    "drift.feature.<column>.p_value",
    "drift.feature.<column>.missing_share_change",
    "quality.<metric>",
    "fairness.demographic_parity_difference",
    "fairness.equalized_odds_difference",
    "health.p50_ms",
    "health.p95_ms",
    "health.p99_ms",
    "health.error_rate",
    "health.throughput",
    "cost.per_1k",
    "feature.staleness_seconds.<view>",  # seconds since a feature view's newest materialised value
)
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}"
_METRIC_RES = tuple(
    re.compile("^" + re.escape(form).replace(re.escape("<column>"), _NAME).replace(re.escape("<metric>"), r"[a-z0-9_]{1,64}")
               .replace(re.escape("<view>"), r"[A-Za-z_][A-Za-z0-9_]{0,62}") + "$")
    for form in METRIC_FORMS
)
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def is_known_metric(name: str) -> bool:
    """True when ``name`` is one of :data:`METRIC_FORMS` (a column or metric filled in)."""
    return any(r.match(name) for r in _METRIC_RES)


def parse_duration_ms(text: str) -> int:
    """``"15m"`` -> 900000; units ms, s, m, h, d.

    Raises:
        ValueError: not a duration.
    """
    match = _DURATION_RE.match(text.strip())
    if match is None:
        raise ValueError(f"{text[:40]!r} is not a duration such as 30s, 15m, 1h or 7d")
    return int(float(match.group(1)) * _UNITS_MS[match.group(2)])


class Comparison(str, enum.Enum):
    """How the value is compared with the threshold; the condition *breaches* when true."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="

    def holds(self, value: float, threshold: float) -> bool:
        if self is Comparison.GT:
            return value > threshold
        if self is Comparison.GE:
            return value >= threshold
        if self is Comparison.LT:
            return value < threshold
        return value <= threshold


class AlertStatus(str, enum.Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


class EventKind(str, enum.Enum):
    PENDING = "pending"
    FIRED = "fired"
    RESOLVED = "resolved"
    INSUFFICIENT_SAMPLE = "insufficient_sample"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule.

    Args:
        name: unique within its rule set (lowercase, as deployments are).
        metric: one of :data:`METRIC_FORMS`.
        comparison, threshold: the condition that breaches (``value > threshold``).
        window_ms: the length of the window the metric is computed over.
        min_sample: windows with fewer rows are insufficient, never a breach nor a recovery.
        for_ms: how long the condition must hold before the rule fires (0: at once).
        severity: ``info``, ``warning`` or ``critical``.
        deployment: the deployment watched (the rollback and retrain actions act on it).
        notify: notification channels (``log``, ``webhook:<name>``, ``prometheus``).
        actions: ``rollback`` and/or ``retrain``.
    """

    name: str
    metric: str
    comparison: Comparison
    threshold: float
    window_ms: int = 3_600_000
    min_sample: int = 1
    for_ms: int = 0
    severity: str = "warning"
    deployment: str | None = None
    notify: tuple[str, ...] = ("log",)
    actions: tuple[str, ...] = ()

    def breaches(self, value: float) -> bool:
        return self.comparison.holds(value, self.threshold)

    def describe(self) -> str:
        return f"{self.metric} {self.comparison.value} {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Observation:
    """One window's value of a rule's metric.

    Args:
        at_ms: the end of the window (epoch ms, UTC).
        value: the metric; None when the window could not compute it.
        sample: rows in the window.
        window_start_ms: the start of the window (default: ``at_ms - rule.window_ms``).
    """

    at_ms: int
    value: float | None
    sample: int
    window_start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AlertState:
    """A rule's state: ``since_ms`` is when the current status began (None when inactive);
    ``last_ms`` the newest observation seen; ``value`` its value."""

    status: AlertStatus = AlertStatus.INACTIVE
    since_ms: int | None = None
    last_ms: int | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """Something that happened to a rule, with the evidence that decided it."""

    kind: EventKind
    rule: str
    at_ms: int
    evidence: dict[str, object] = field(default_factory=dict)


def _evidence(rule: AlertRule, obs: Observation, state: AlertState) -> dict[str, object]:
    start = obs.window_start_ms if obs.window_start_ms is not None else obs.at_ms - rule.window_ms
    return {
        "metric": rule.metric, "value": obs.value, "comparison": rule.comparison.value, "threshold": rule.threshold,
        "sample": obs.sample, "min_sample": rule.min_sample, "window_start_ms": start, "window_end_ms": obs.at_ms,
        "for_ms": rule.for_ms, "since_ms": state.since_ms, "severity": rule.severity, "deployment": rule.deployment,
    }


def step(rule: AlertRule, state: AlertState, obs: Observation) -> tuple[AlertState, tuple[AlertEvent, ...]]:
    """Apply one observation to a rule's state.

    Returns:
        The new state and the events of this step (none when nothing changed).

    Example:
        >>> rule = AlertRule("drift", "drift.share", Comparison.GT, 0.3)
        >>> state, events = step(rule, AlertState(), Observation(1000, 0.5, 500))
        >>> state.status.value, [e.kind.value for e in events]
        ('firing', ['fired'])
    """
    if state.last_ms is not None and obs.at_ms < state.last_ms:
        return state, ()  # an older window seen again: it decided nothing new
    value = obs.value
    if value is None or math.isnan(value) or obs.sample < rule.min_sample:
        seen = AlertState(state.status, state.since_ms, obs.at_ms, state.value)
        return seen, (AlertEvent(EventKind.INSUFFICIENT_SAMPLE, rule.name, obs.at_ms, _evidence(rule, obs, state)),)
    if not rule.breaches(value):
        if state.status is AlertStatus.FIRING:
            new = AlertState(AlertStatus.INACTIVE, None, obs.at_ms, value)
            evidence = {**_evidence(rule, obs, new), "fired_since_ms": state.since_ms}
            return new, (AlertEvent(EventKind.RESOLVED, rule.name, obs.at_ms, evidence),)
        return AlertState(AlertStatus.INACTIVE, None, obs.at_ms, value), ()
    if state.status is AlertStatus.FIRING:
        return AlertState(AlertStatus.FIRING, state.since_ms, obs.at_ms, value), ()
    pending_since = state.since_ms if state.status is AlertStatus.PENDING and state.since_ms is not None else obs.at_ms
    if obs.at_ms - pending_since >= rule.for_ms:
        new = AlertState(AlertStatus.FIRING, obs.at_ms, obs.at_ms, value)
        evidence = {**_evidence(rule, obs, new), "breached_since_ms": pending_since}
        return new, (AlertEvent(EventKind.FIRED, rule.name, obs.at_ms, evidence),)
    new = AlertState(AlertStatus.PENDING, pending_since, obs.at_ms, value)
    events = () if state.status is AlertStatus.PENDING else (AlertEvent(EventKind.PENDING, rule.name, obs.at_ms, _evidence(rule, obs, new)),)
    return new, events
