"""Progressive rollout decisions: advance, hold or roll back, with the numbers that decided.

The rollout controller (``steward.serving``) sums the :class:`~steward.core.traffic.VariantStats`
every serving replica reported for the current step and asks :func:`decide`. No I/O here:
the same inputs always give the same decision, and the evidence says why.

A candidate *breaks* a bound when, with at least ``rollback_min_requests`` of its requests
counted, its error rate or p99 latency is worse than the primary's by more than the policy
allows. It *advances* when it has served ``min_requests`` for ``min_duration_ms`` in the
step and no bound breaks; from the last step below 100 % it is promoted.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .traffic import LATENCY_BUCKETS_MS, VariantStats

__all__ = [
    "Decision",
    "QualityBound",
    "QualityObservation",
    "RolloutAction",
    "RolloutPolicy",
    "VariantTotals",
    "decide",
    "latency_quantile_ms",
    "sum_stats",
]


@dataclass(frozen=True, slots=True)
class QualityBound:
    """A bound on a labelled quality metric (where ground truth arrives in time).

    Attributes:
        metric: the metric name (``accuracy``, ``roc_auc`` ...); higher is better.
        max_drop: how far the candidate may fall below the primary.
        min_labels: labelled predictions each variant needs before the bound is judged.
    """

    metric: str
    max_drop: float
    min_labels: int = 100


@dataclass(frozen=True, slots=True)
class RolloutPolicy:
    """A parsed rollout policy (see ``steward.serving`` for the YAML form).

    Attributes:
        steps: the candidate's traffic share at each step, in percent, increasing, ending at 100.
        min_requests: candidate requests a step needs before it may advance.
        min_duration_ms: how long a step lasts at least.
        max_error_rate_ratio: the candidate's error rate may be at most this times the primary's ...
        max_error_rate_delta: ... or at most this much above it (the looser of the two holds).
        max_p99_ratio: the candidate's p99 latency may be at most this times the primary's ...
        max_p99_delta_ms: ... or at most this many milliseconds above it.
        max_p99_ms: an absolute ceiling on the candidate's p99, whatever the primary does.
        rollback_min_requests: candidate requests counted before a bound may roll back.
        interval_s: how often the controller looks (None: the ``rollout_interval`` setting).
        quality: an optional bound on a labelled metric.
        text: the YAML the policy came from (stored with the rollout).
    """

    steps: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)
    min_requests: int = 100
    min_duration_ms: int = 60_000
    max_error_rate_ratio: float | None = 2.0
    max_error_rate_delta: float | None = 0.01
    max_p99_ratio: float | None = 1.5
    max_p99_delta_ms: float | None = 5.0
    max_p99_ms: float | None = None
    rollback_min_requests: int = 20
    interval_s: float | None = None
    quality: QualityBound | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class VariantTotals:
    """One variant's stats summed over every replica and window of a step."""

    requests: int = 0
    errors: int = 0
    latency_counts: tuple[int, ...] = tuple(0 for _ in LATENCY_BUCKETS_MS)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def p99_ms(self) -> float | None:
        return latency_quantile_ms(self.latency_counts, 0.99)

    def to_dict(self) -> dict[str, object]:
        p99 = self.p99_ms
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 6),
            "p99_ms": None if p99 is None else round(p99, 3),
        }


def sum_stats(stats: Iterable[VariantStats], variant: str) -> VariantTotals:
    """Add up the windows of ``variant`` (every replica's, every window's).

    Histograms with a different bucket count than :data:`LATENCY_BUCKETS_MS` are ignored
    for latency (their requests and errors still count).
    """
    requests = errors = 0
    counts = [0] * len(LATENCY_BUCKETS_MS)
    for s in stats:
        if s.variant != variant:
            continue
        requests += s.requests
        errors += s.errors
        if len(s.latency_counts) == len(counts):
            for i, c in enumerate(s.latency_counts):
                counts[i] += c
    return VariantTotals(requests, errors, tuple(counts))


def latency_quantile_ms(counts: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile of a :data:`LATENCY_BUCKETS_MS` histogram, interpolated linearly
    inside its bucket (as Prometheus' ``histogram_quantile``); None when empty.

    A quantile in the last (+inf) bucket is reported as the largest finite bound.
    """
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    lower = 0.0
    for bound, count in zip(LATENCY_BUCKETS_MS, counts, strict=False):
        if count and seen + count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        if not math.isinf(bound):
            lower = bound
    return lower


class RolloutAction(str, enum.Enum):
    """What the controller does next."""

    HOLD = "hold"
    ADVANCE = "advance"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class QualityObservation:
    """A labelled metric of both variants over the step (None where unknown)."""

    metric: str
    primary: float | None
    candidate: float | None
    primary_labels: int = 0
    candidate_labels: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The controller's next move and why.

    Attributes:
        action: hold, advance, promote or rollback.
        reason: one readable line.
        evidence: the numbers (JSON): both variants' totals, the limits, the breaches.
        next_weight: the candidate's share after an advance (100 after a promotion).
    """

    action: RolloutAction
    reason: str
    evidence: dict[str, object] = field(default_factory=dict)
    next_weight: float | None = None


def _limit(base: float, ratio: float | None, delta: float | None) -> float | None:
    """The looser of ``base * ratio`` and ``base + delta`` (None when neither is set)."""
    options = [v for v in (base * ratio if ratio is not None else None, base + delta if delta is not None else None) if v is not None]
    return max(options) if options else None


def _judged_quality(bound: QualityBound | None, quality: QualityObservation | None) -> tuple[float, float] | None:
    """(primary, candidate) values when the bound can be judged: both known, enough labels each."""
    if bound is None or quality is None or quality.primary is None or quality.candidate is None:
        return None
    if min(quality.primary_labels, quality.candidate_labels) < bound.min_labels:
        return None
    return quality.primary, quality.candidate


def _breaches(policy: RolloutPolicy, primary: VariantTotals, candidate: VariantTotals, quality: QualityObservation | None) -> tuple[list[str], dict[str, object]]:
    breaches: list[str] = []
    limits: dict[str, object] = {}
    error_limit = _limit(primary.error_rate, policy.max_error_rate_ratio, policy.max_error_rate_delta)
    if error_limit is not None:
        limits["error_rate"] = round(error_limit, 6)
        if candidate.error_rate > error_limit:
            breaches.append(
                f"error rate {candidate.error_rate:.4f} ({candidate.errors}/{candidate.requests}) is over the bound "
                f"{error_limit:.4f} (primary {primary.error_rate:.4f})"
            )
    cand_p99, prim_p99 = candidate.p99_ms, primary.p99_ms
    p99_limit = None if prim_p99 is None else _limit(prim_p99, policy.max_p99_ratio, policy.max_p99_delta_ms)
    if policy.max_p99_ms is not None:
        p99_limit = policy.max_p99_ms if p99_limit is None else min(p99_limit, policy.max_p99_ms)
    if p99_limit is not None:
        limits["p99_ms"] = round(p99_limit, 3)
        if cand_p99 is not None and cand_p99 > p99_limit:
            primary_text = "n/a" if prim_p99 is None else f"{prim_p99:.1f} ms"
            breaches.append(f"p99 latency {cand_p99:.1f} ms is over the bound {p99_limit:.1f} ms (primary {primary_text})")
    bound = policy.quality
    judged = _judged_quality(bound, quality)
    if bound is not None and judged is not None:
        primary_value, candidate_value = judged
        limits[bound.metric] = round(primary_value - bound.max_drop, 6)
        if candidate_value < primary_value - bound.max_drop:
            breaches.append(
                f"{bound.metric} {candidate_value:.4f} is more than {bound.max_drop} below the primary's {primary_value:.4f}"
            )
    return breaches, limits


def decide(
    policy: RolloutPolicy,
    *,
    step_index: int,
    step_started_ms: int,
    now_ms: int,
    primary: VariantTotals,
    candidate: VariantTotals,
    quality: QualityObservation | None = None,
) -> Decision:
    """The next move of a rollout at step ``step_index`` of ``policy.steps``.

    Args:
        policy: the rollout policy.
        step_index: the current step (0 is the first canary share).
        step_started_ms: when the current step began (UTC epoch ms).
        now_ms: the time of the decision.
        primary: the primary's totals since the step began.
        candidate: the candidate's totals since the step began.
        quality: labelled quality of both, when the prediction log has labels.

    Returns:
        The :class:`Decision`; ``evidence`` is JSON for the history and the audit trail.
    """
    elapsed = max(0, now_ms - step_started_ms)
    weight = policy.steps[step_index]
    evidence: dict[str, object] = {
        "step": step_index + 1,
        "steps": len(policy.steps),
        "weight": weight,
        "elapsed_ms": elapsed,
        "primary": primary.to_dict(),
        "candidate": candidate.to_dict(),
    }
    if quality is not None:
        evidence["quality"] = {"metric": quality.metric, "primary": quality.primary, "candidate": quality.candidate}
    breaches, limits = _breaches(policy, primary, candidate, quality)
    evidence["limits"] = limits
    if candidate.requests >= policy.rollback_min_requests and breaches:
        evidence["breaches"] = breaches
        return Decision(RolloutAction.ROLLBACK, f"candidate broke its bounds at {weight:g}%: " + "; ".join(breaches), evidence)
    waiting: list[str] = []
    if candidate.requests < policy.min_requests:
        waiting.append(f"{candidate.requests}/{policy.min_requests} candidate requests")
    if elapsed < policy.min_duration_ms:
        waiting.append(f"{elapsed / 1000:.0f}/{policy.min_duration_ms / 1000:.0f} s")
    if breaches:
        waiting.append(f"bounds broken on too few requests ({candidate.requests} < {policy.rollback_min_requests})")
    if waiting:
        return Decision(RolloutAction.HOLD, f"holding at {weight:g}%: waiting for " + ", ".join(waiting), evidence)
    if step_index + 1 >= len(policy.steps) - 1:
        return Decision(RolloutAction.PROMOTE, f"bounds held at {weight:g}%: promoting the candidate", evidence, 100.0)
    nxt = policy.steps[step_index + 1]
    return Decision(RolloutAction.ADVANCE, f"bounds held at {weight:g}%: advancing to {nxt:g}%", evidence, nxt)
