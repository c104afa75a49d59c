"""Searches ordered by a metric read the best values first (a window on the metric's index,
widened until the page is full, then the runs without a value): the pages must be exactly
those of one ORDER BY over every run, on SQLite and on PostgreSQL.

The expected order is computed here in Python from what the runs were given: the metric's
value (runs without it, or with NaN, last), then newest start time first, then run id.
"""

from __future__ import annotations

import math

import pytest

from steward.core import Metric
from steward.tracking import TrackingService

# more runs than the first window of a small page holds, so the window is bounded by a
# value that ties with runs outside it
RUNS = 150
# runs of another experiment with better scores than all of those: the index's first
# entries are not the searched experiment's, and a first window of a small page
# (max_results=3: 80 values) holds 50 of its runs
OTHERS = 30


def _score(i: int) -> float | None:
    if i % 13 == 0:
        return None  # no such metric
    if i % 17 == 0:
        return math.nan
    return (i * 7 % 11) / 10  # eleven values: many ties, broken by start time and id


@pytest.fixture
def spread(tracking: TrackingService) -> list[dict[str, object]]:
    """RUNS runs in experiment "spread" (ties on score and on start time), and runs of another
    experiment holding the best scores, so the index's first entries are not this
    experiment's; returns what each run of "spread" was given."""
    other = tracking.create_experiment("elsewhere")
    for i in range(OTHERS):
        run = tracking.create_run(other.experiment_id, name=f"x{i}", params={"kind": "a"})
        tracking.log_batch(run.run_id, metrics=[Metric("score", 5.0 + i, 0, 0)])
    exp = tracking.create_experiment("spread")
    made: list[dict[str, object]] = []
    for i in range(RUNS):
        start = 1000 + i // 4
        run = tracking.create_run(exp.experiment_id, name=f"r{i:03d}", params={"kind": "ab"[i % 3 == 0]}, start_time=start)
        score = _score(i)
        if score is not None:
            tracking.log_batch(run.run_id, metrics=[Metric("score", score, 0, 0)])
        made.append({"id": run.run_id, "name": f"r{i:03d}", "kind": "ab"[i % 3 == 0], "start": start, "score": score})
    return made


def _expected(
    made: list[dict[str, object]], *, descending: bool, kind: str | None, by_name: bool = False, below: float | None = None
) -> list[str]:
    def key(run: dict[str, object]) -> tuple[object, ...]:
        score = run["score"]
        missing = score is None or (isinstance(score, float) and math.isnan(score))
        value = 0.0 if missing else float(score)  # type: ignore[arg-type]  # a float when not missing
        name = str(run["name"]) if by_name else ""
        return (missing, -value if descending else value, name, -int(run["start"]), str(run["id"]))  # type: ignore[call-overload]  # an int

    chosen = [r for r in made if kind is None or r["kind"] == kind]
    if below is not None:  # metrics.score < below: runs without a (non-NaN) score never match
        chosen = [r for r in chosen if isinstance(r["score"], float) and r["score"] < below]
    return [str(r["id"]) for r in sorted(chosen, key=key)]


def _walk(tracking: TrackingService, order_by: list[str], filter_: str | None, size: int) -> list[str]:
    seen: list[str] = []
    token = None
    while True:
        page = tracking.search_runs("spread", filter=filter_, order_by=order_by, max_results=size, page_token=token)
        assert len(page.runs) <= size
        seen.extend(r.run_id for r in page.runs)
        token = page.next_page_token
        if token is None:
            return seen
        assert len(page.runs) == size


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("size", [3, 7, 200])
def test_pages_ordered_by_a_metric_are_those_of_one_order_by_over_all_runs(
    tracking: TrackingService, spread: list[dict[str, object]], descending: bool, size: int
) -> None:
    order = ["metrics.score DESC" if descending else "metrics.score ASC"]
    assert _walk(tracking, order, None, size) == _expected(spread, descending=descending, kind=None)


def test_a_filtered_metric_order_pages_through_runs_without_the_metric_last(
    tracking: TrackingService, spread: list[dict[str, object]]
) -> None:
    # a filter keeping a third of the runs: the first window holds too few matches
    got = _walk(tracking, ["metrics.score DESC"], "params.kind = 'b'", 3)
    expected = _expected(spread, descending=True, kind="b")
    assert got == expected
    without = {str(r["id"]) for r in spread if r["kind"] == "b" and (r["score"] is None or math.isnan(float(r["score"])))}  # type: ignore[arg-type]  # a float
    assert set(got[-len(without) :]) == without


def test_a_filter_no_run_of_the_first_window_passes_still_pages_in_order(
    tracking: TrackingService, spread: list[dict[str, object]]
) -> None:
    # the best scores fail the filter: the windows give up and one ORDER BY over every run
    # of the experiment answers
    got = _walk(tracking, ["metrics.score DESC"], "params.kind = 'b' and metrics.score < 0.3", 3)
    assert got == _expected(spread, descending=True, kind="b", below=0.3)
    assert len(got) > 6


def test_ties_on_the_metric_follow_the_next_order_term_then_start_time(
    tracking: TrackingService, spread: list[dict[str, object]]
) -> None:
    got = _walk(tracking, ["metrics.score DESC", "attributes.name ASC"], None, 4)
    assert got == _expected(spread, descending=True, kind=None, by_name=True)


def test_a_page_token_past_the_runs_with_the_metric_starts_among_those_without(
    tracking: TrackingService, spread: list[dict[str, object]]
) -> None:
    expected = _expected(spread, descending=True, kind=None)
    first = tracking.search_runs("spread", order_by=["metrics.score DESC"], max_results=len(expected) - 5)
    assert [r.run_id for r in first.runs] == expected[:-5]
    rest = tracking.search_runs("spread", order_by=["metrics.score DESC"], max_results=50, page_token=first.next_page_token)
    assert [r.run_id for r in rest.runs] == expected[-5:]
    assert rest.next_page_token is None
    assert all(math.isnan(r.metrics["score"].value) if "score" in r.metrics else True for r in rest.runs)
