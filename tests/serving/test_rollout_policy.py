"""Rollout decisions (pure) and rollout policies (YAML with a JSON Schema, faults by line)."""

from __future__ import annotations

import pytest
from deployments_testing import latency_counts

from steward.core.rollout import (
    RolloutAction,
    RolloutPolicy,
    VariantTotals,
    decide,
    latency_quantile_ms,
    sum_stats,
)
from steward.core.traffic import LATENCY_BUCKETS_MS, VariantStats
from steward.errors import InvalidInputError
from steward.serving import parse_rollout_policy, rollout_policy_faults

POLICY = RolloutPolicy(steps=(5, 25, 50, 100), min_requests=100, min_duration_ms=10_000, rollback_min_requests=20)


def totals(requests: int, errors: int = 0, ms: float = 3.0) -> VariantTotals:
    return VariantTotals(requests, errors, latency_counts(ms, requests))


def _decide(primary: VariantTotals, candidate: VariantTotals, *, step: int = 0, elapsed: int = 60_000) -> object:
    return decide(POLICY, step_index=step, step_started_ms=0, now_ms=elapsed, primary=primary, candidate=candidate)


def test_healthy_candidate_advances_to_the_next_step_with_its_evidence() -> None:
    decision = _decide(totals(2000, 4), totals(120, 0))
    assert decision.action is RolloutAction.ADVANCE and decision.next_weight == 25
    assert decision.evidence["candidate"] == {"requests": 120, "errors": 0, "error_rate": 0.0, "p99_ms": pytest.approx(4.97, abs=0.01)}


def test_the_last_step_before_100_promotes() -> None:
    assert _decide(totals(2000), totals(2000), step=2).action is RolloutAction.PROMOTE


def test_a_failing_candidate_rolls_back_with_the_numbers() -> None:
    decision = _decide(totals(2000, 2), totals(40, 20))
    assert decision.action is RolloutAction.ROLLBACK
    assert "error rate 0.5000 (20/40)" in decision.reason
    assert decision.evidence["limits"]["error_rate"] == pytest.approx(0.011)


def test_a_slow_candidate_rolls_back_on_p99() -> None:
    decision = _decide(totals(2000, ms=4), totals(50, ms=400))
    assert decision.action is RolloutAction.ROLLBACK and "p99 latency" in decision.reason


def test_too_few_requests_or_too_little_time_holds() -> None:
    assert _decide(totals(2000), totals(50)).action is RolloutAction.HOLD
    assert _decide(totals(2000), totals(500), elapsed=5_000).action is RolloutAction.HOLD
    # a bound broken on fewer requests than rollback_min_requests is not yet evidence
    held = _decide(totals(2000), totals(5, 5))
    assert held.action is RolloutAction.HOLD and "too few requests" in held.reason


def test_the_looser_of_ratio_and_delta_holds() -> None:
    # primary 10% errors: ratio 2 allows 20%, delta allows 11%: 15% passes
    assert _decide(totals(1000, 100), totals(200, 30)).action is RolloutAction.ADVANCE
    assert _decide(totals(1000, 100), totals(200, 50)).action is RolloutAction.ROLLBACK


def test_p99_is_interpolated_inside_its_bucket_and_capped_at_the_last_finite_bound() -> None:
    counts = [0] * len(LATENCY_BUCKETS_MS)
    counts[2] = 100  # all in (2, 5] ms
    assert latency_quantile_ms(counts, 0.99) == pytest.approx(4.97)
    counts = [0] * len(LATENCY_BUCKETS_MS)
    counts[-1] = 10
    assert latency_quantile_ms(counts, 0.99) == 5000
    assert latency_quantile_ms([0] * len(LATENCY_BUCKETS_MS), 0.99) is None


def test_stats_of_every_replica_are_summed_per_variant() -> None:
    windows = [
        VariantStats("d", 1, "candidate", "m:2", 0, 1, 10, 1, latency_counts(3, 10)),
        VariantStats("d", 1, "candidate", "m:2", 0, 1, 5, 2, latency_counts(30, 5)),
        VariantStats("d", 1, "primary", "m:1", 0, 1, 100, 0, latency_counts(3, 100)),
    ]
    summed = sum_stats(windows, "candidate")
    assert (summed.requests, summed.errors, sum(summed.latency_counts)) == (15, 3, 15)


def test_a_policy_file_is_parsed_with_durations_and_defaults() -> None:
    policy = parse_rollout_policy(
        "steps: [5, 25, 50, 100]\nmin_requests: 200\nmin_duration: 2m\ninterval: 500ms\n"
        "bounds:\n  max_error_rate_ratio: 3\n  max_p99_ms: 250\nquality: {metric: accuracy, max_drop: 0.02}\n"
    )
    assert policy.steps == (5, 25, 50, 100) and policy.min_duration_ms == 120_000 and policy.interval_s == 0.5
    assert (policy.max_error_rate_ratio, policy.max_error_rate_delta, policy.max_p99_ms) == (3, None, 250)
    assert policy.quality is not None and policy.quality.metric == "accuracy"
    assert parse_rollout_policy("steps: [10, 100]").max_p99_ratio == 1.5


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("steps: [5, 25, 50, 100]\nmin_requests: 10\nbounds:\n  max_eror_rate: 2\n", 4, "unknown key 'max_eror_rate'"),
        ("steps: [5, 25]\n", 1, "last step must be 100"),
        ("steps:\n  - 50\n  - 20\n  - 100\n", 3, "steps must increase"),
        ("steps: [5, 100]\nmin_duration: soon\n", 2, "not a duration"),
        ("steps: [5, 100]\nmin_requests: -3\n", 2, "min_requests"),
        ("min_requests: 3\n", 1, "'steps' is a required property"),
        ("steps: [5, 100\n", 2, "YAML syntax"),
        ("- 5\n- 100\n", 1, "a rollout policy is a YAML mapping"),
    ],
)
def test_every_fault_names_its_line(text: str, line: int, words: str) -> None:
    faults = rollout_policy_faults(text)
    assert any(ln == line and words in message for ln, message in faults), faults
    with pytest.raises(InvalidInputError) as caught:
        parse_rollout_policy(text)
    assert caught.value.field == "policy" and "line" in caught.value.message


def test_a_quality_bound_rolls_back_only_with_enough_labels() -> None:
    from steward.core.rollout import QualityBound, QualityObservation

    policy = RolloutPolicy(steps=(10, 100), min_requests=10, min_duration_ms=0, quality=QualityBound("accuracy", 0.02, min_labels=50))
    healthy = {"primary": totals(1000), "candidate": totals(100)}
    worse = QualityObservation("accuracy", 0.91, 0.80, primary_labels=500, candidate_labels=60)
    decision = decide(policy, step_index=0, step_started_ms=0, now_ms=1, quality=worse, **healthy)
    assert decision.action is RolloutAction.ROLLBACK and "accuracy 0.8000" in decision.reason
    few = QualityObservation("accuracy", 0.91, 0.80, primary_labels=500, candidate_labels=10)
    assert decide(policy, step_index=0, step_started_ms=0, now_ms=1, quality=few, **healthy).action is RolloutAction.PROMOTE
