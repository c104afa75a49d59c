"""The alert state machine: fires, does not fire, resolves, waits for-how-long, ignores thin windows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from steward.core.alerts import (
    AlertRule,
    AlertState,
    AlertStatus,
    Comparison,
    EventKind,
    Observation,
    is_known_metric,
    parse_duration_ms,
    step,
)

MIN = 60_000
RULE = AlertRule("drift-high", "drift.share", Comparison.GT, 0.3, min_sample=100, for_ms=15 * MIN)


def _run(rule: AlertRule, observations: list[Observation]) -> tuple[AlertState, list[str]]:
    state, kinds = AlertState(), []
    for obs in observations:
        state, events = step(rule, state, obs)
        kinds += [e.kind.value for e in events]
    return state, kinds


def test_a_breach_fires_at_once_when_the_rule_has_no_for_duration() -> None:
    rule = AlertRule("p99", "health.p99_ms", Comparison.GE, 250, min_sample=10)
    state, events = step(rule, AlertState(), Observation(1000, 300.0, 50))
    assert state.status is AlertStatus.FIRING and state.since_ms == 1000
    [event] = events
    assert event.kind is EventKind.FIRED
    assert event.evidence["value"] == 300.0 and event.evidence["threshold"] == 250 and event.evidence["sample"] == 50


def test_values_on_the_good_side_of_the_threshold_never_fire() -> None:
    state, kinds = _run(RULE, [Observation(i * MIN, 0.3, 500) for i in range(60)])
    assert state.status is AlertStatus.INACTIVE and kinds == []


def test_the_rule_waits_for_the_condition_to_hold_for_its_duration_before_firing() -> None:
    obs = [Observation(i * 5 * MIN, 0.5, 500) for i in range(5)]  # 0, 5, 10, 15, 20 minutes
    state, kinds = _run(RULE, obs[:3])
    assert state.status is AlertStatus.PENDING and state.since_ms == 0 and kinds == ["pending"]
    state, events = step(RULE, state, obs[3])
    assert state.status is AlertStatus.FIRING and [e.kind for e in events] == [EventKind.FIRED]
    assert events[0].evidence["breached_since_ms"] == 0


def test_a_breach_that_stops_before_the_duration_never_fires() -> None:
    obs = [Observation(0, 0.5, 500), Observation(10 * MIN, 0.5, 500), Observation(12 * MIN, 0.1, 500), Observation(20 * MIN, 0.5, 500)]
    state, kinds = _run(RULE, obs)
    assert kinds == ["pending", "pending"]  # the clock restarted at 20 minutes
    assert state.status is AlertStatus.PENDING and state.since_ms == 20 * MIN


def test_a_firing_rule_resolves_when_the_value_recovers() -> None:
    rule = AlertRule("auc", "quality.roc_auc", Comparison.LT, 0.8, min_sample=50)
    state, kinds = _run(rule, [Observation(0, 0.7, 60), Observation(MIN, 0.72, 60), Observation(2 * MIN, 0.85, 60)])
    assert kinds == ["fired", "resolved"] and state.status is AlertStatus.INACTIVE


def test_windows_below_the_minimum_sample_neither_fire_nor_resolve() -> None:
    state, kinds = _run(RULE, [Observation(0, 0.9, 99), Observation(20 * MIN, None, 500)])
    assert state.status is AlertStatus.INACTIVE and kinds == ["insufficient_sample", "insufficient_sample"]
    firing = AlertState(AlertStatus.FIRING, 0, 0, 0.9)
    state, events = step(RULE, firing, Observation(MIN, 0.0, 3))
    assert state.status is AlertStatus.FIRING and [e.kind for e in events] == [EventKind.INSUFFICIENT_SAMPLE]


def test_an_older_window_seen_again_changes_nothing() -> None:
    firing = AlertState(AlertStatus.FIRING, 10 * MIN, 10 * MIN, 0.9)
    assert step(RULE, firing, Observation(5 * MIN, 0.0, 500)) == (firing, ())


def test_metric_names_and_durations() -> None:
    assert all(is_known_metric(m) for m in ("drift.share", "drift.feature.amount.effect", "quality.roc_auc", "health.p99_ms", "cost.per_1k"))
    assert not any(is_known_metric(m) for m in ("drift.shares", "health.p42", "quality.", "latency"))
    assert parse_duration_ms("15m") == 900_000 and parse_duration_ms("1.5h") == 5_400_000


@given(
    st.lists(st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 300)), max_size=40),
    st.integers(0, 4),
)
def test_the_state_machine_agrees_with_a_plain_model_of_the_rule(windows: list[tuple[float, int]], for_steps: int) -> None:
    rule = AlertRule("r", "drift.share", Comparison.GT, 0.5, min_sample=100, for_ms=for_steps * MIN)
    state = AlertState()
    run_start: int | None = None  # the first breaching window since the last sufficient good one
    firing = False
    for i, (value, sample) in enumerate(windows):
        at = i * MIN
        was_firing = firing
        state, events = step(rule, state, Observation(at, value, sample))
        kinds = [e.kind for e in events]
        if sample < 100:
            assert kinds == [EventKind.INSUFFICIENT_SAMPLE]
        elif value > 0.5:
            run_start = at if run_start is None else run_start
            firing = firing or at - run_start >= rule.for_ms
        else:
            run_start, firing = None, False
        expected = AlertStatus.FIRING if firing else AlertStatus.PENDING if run_start is not None else AlertStatus.INACTIVE
        assert state.status is expected
        assert (EventKind.FIRED in kinds) == (firing and not was_firing)
        assert (EventKind.RESOLVED in kinds) == (was_firing and not firing)
