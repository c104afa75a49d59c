"""Contract suite of the SQL metadata store, run on SQLite and on PostgreSQL.

Every test goes through the real :class:`TrackingService` on the real store (the
``tracking`` fixture is parametrised over both engines by ``store_url``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from steward.adapters.sql import SqlStore
from steward.adapters.sql._tables import audit_log, latest_metrics, params, runs, tags
from steward.core import Metric, RunStatus
from steward.errors import (
    AlreadyExistsError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    NotFoundError,
)
from steward.tracking import TrackingService


def count(store: SqlStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def snapshot(store: SqlStore) -> dict[str, int]:
    """Row counts of every table a mutation can touch, and the stored metric points."""
    counts = {t.name: count(store, t) for t in (runs, params, tags, latest_metrics, audit_log)}
    counts["metric points"] = store.count_metrics()
    return counts


# -- experiments ------------------------------------------------------------------------


def test_experiments_can_be_created_read_listed_renamed_deleted_and_restored(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn", tags={"team": "risk"})
    assert tracking.get_experiment(exp.experiment_id) == exp
    assert tracking.get_experiment_by_name("churn") == exp
    assert exp.tags == {"team": "risk"}
    other = tracking.create_experiment("fraud")
    assert [e.name for e in tracking.list_experiments()] == ["churn", "fraud"]

    renamed = tracking.rename_experiment(other.experiment_id, "fraud-v2")
    assert renamed.name == "fraud-v2"
    tracking.set_experiment_tag(exp.experiment_id, "team", "growth")
    assert tracking.get_experiment(exp.experiment_id).tags == {"team": "growth"}

    tracking.delete_experiment(exp.experiment_id)
    assert [e.name for e in tracking.list_experiments()] == ["fraud-v2"]
    assert len(tracking.list_experiments(include_deleted=True)) == 2
    tracking.restore_experiment(exp.experiment_id)
    assert tracking.get_experiment(exp.experiment_id).lifecycle_stage == "active"


def test_a_duplicate_experiment_name_raises_already_exists_and_writes_nothing(tracking: TrackingService) -> None:
    tracking.create_experiment("churn")
    before = snapshot(tracking.store)  # type: ignore[arg-type]
    with pytest.raises(AlreadyExistsError) as info:
        tracking.create_experiment("churn")
    assert info.value.field == "name"
    assert snapshot(tracking.store) == before  # type: ignore[arg-type]
    other = tracking.create_experiment("other")
    with pytest.raises(AlreadyExistsError):
        tracking.rename_experiment(other.experiment_id, "churn")


def test_unknown_experiments_raise_not_found(tracking: TrackingService) -> None:
    for ref in ("999", "not-a-number"):
        with pytest.raises(NotFoundError):
            tracking.get_experiment(ref)
        with pytest.raises(NotFoundError):
            tracking.create_run(ref)
    assert tracking.get_experiment_by_name("nope") is None


def test_a_deleted_experiment_accepts_no_new_runs(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    tracking.delete_experiment(exp.experiment_id)
    with pytest.raises(ConflictError):
        tracking.create_run(exp.experiment_id)


# -- runs -------------------------------------------------------------------------------


def test_runs_are_created_running_and_read_back_whole(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id, name="first", params={"C": 1.0, "model": "gbm"}, tags={"k": "v"})
    assert len(run.run_id) == 32
    got = tracking.get_run(run.run_id)
    assert got == run
    assert got.status is RunStatus.RUNNING
    assert got.params == {"C": "1.0", "model": "gbm"}
    assert got.tags == {"k": "v"}
    assert got.user == "tester"
    assert got.end_time is None


def test_an_unknown_run_raises_not_found(tracking: TrackingService) -> None:
    with pytest.raises(NotFoundError) as info:
        tracking.get_run("0" * 32)
    assert info.value.field == "run_id"
    with pytest.raises(NotFoundError):
        tracking.log_batch("0" * 32, metrics=[Metric("m", 1.0)])
    with pytest.raises(NotFoundError):
        tracking.end_run("0" * 32)


def test_a_reused_run_id_is_a_conflict_not_a_crash(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    before = snapshot(tracking.store)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        tracking.create_run(exp.experiment_id, run_id=run.run_id)
    assert snapshot(tracking.store) == before  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED])
def test_ending_a_run_sets_its_terminal_status_and_end_time(tracking: TrackingService, status: RunStatus) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    ended = tracking.end_run(run.run_id, status, end_time=run.start_time + 5)
    assert ended.status is status
    assert ended.end_time == run.start_time + 5
    assert tracking.end_run(run.run_id, status).status is status  # ending twice the same way is fine
    other = RunStatus.FAILED if status is not RunStatus.FAILED else RunStatus.FINISHED
    with pytest.raises(ConflictError):
        tracking.end_run(run.run_id, other)


def test_a_failed_run_keeps_its_failure_text(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    assert tracking.get_run_failure(run.run_id) is None
    tracking.end_run(run.run_id, RunStatus.FAILED, failure="Traceback ...\nValueError: boom")
    assert tracking.get_run_failure(run.run_id) == "Traceback ...\nValueError: boom"


def test_update_run_renames_and_sets_a_note(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    updated = tracking.update_run(run.run_id, name="renamed", note="# why\nbecause")
    assert (updated.name, updated.note) == ("renamed", "# why\nbecause")


def test_logging_to_a_finished_run_is_a_conflict_and_writes_nothing(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    tracking.end_run(run.run_id)
    before = snapshot(tracking.store)  # type: ignore[arg-type]
    with pytest.raises(ConflictError) as info:
        tracking.log_batch(
            run.run_id, metrics=[Metric("m", 1.0, i, 0) for i in range(10)], params={"p": 1}, tags={"t": "x"}
        )
    assert info.value.field == "run_id"
    assert snapshot(tracking.store) == before  # type: ignore[arg-type]


def test_params_are_immutable_and_a_conflicting_batch_stores_nothing(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id, params={"lr": 0.1})
    tracking.log_batch(run.run_id, params={"lr": 0.1})  # the same value again is fine
    before = snapshot(tracking.store)  # type: ignore[arg-type]
    with pytest.raises(ConflictError) as info:
        tracking.log_batch(
            run.run_id, metrics=[Metric("loss", 0.5, 0, 0)], params={"lr": 0.2, "new": "x"}, tags={"t": "x"}
        )
    assert info.value.field == "params.lr"
    assert snapshot(tracking.store) == before  # type: ignore[arg-type]
    assert tracking.get_run(run.run_id).params == {"lr": "0.1"}


def test_tags_can_be_overwritten_and_deleted(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id, tags={"k": "1"})
    tracking.log_batch(run.run_id, tags={"k": "2", "j": "x"})
    assert tracking.get_run(run.run_id).tags == {"k": "2", "j": "x"}
    tracking.delete_tag(run.run_id, "k")
    assert tracking.get_run(run.run_id).tags == {"j": "x"}
    with pytest.raises(NotFoundError):
        tracking.delete_tag(run.run_id, "k")


def test_invalid_batches_are_refused_before_anything_is_written(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    before = snapshot(tracking.store)  # type: ignore[arg-type]
    bad_batches = [
        {"metrics": [Metric("ok", 1.0), Metric("bad", "high", 0, 0)]},  # type: ignore[arg-type]
        {"params": {"k" * 251: "v"}},
        {"params": {"k": "v" * 6001}},
        {"metrics": [Metric("m", 1.0)], "params": {"ok": 1, "bad key;": 2}},
    ]
    for batch in bad_batches:
        with pytest.raises(InvalidInputError):
            tracking.log_batch(run.run_id, **batch)  # type: ignore[arg-type]
    assert snapshot(tracking.store) == before  # type: ignore[arg-type]


# -- metrics ----------------------------------------------------------------------------


def test_nan_and_infinities_are_stored_and_read_back_faithfully(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    values = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-308, 1.7976931348623157e308, 0.1]
    tracking.log_batch(run.run_id, metrics=[Metric("m", v, i, 1000 + i) for i, v in enumerate(values)])
    history = tracking.get_metric_history(run.run_id, "m")
    assert [p.step for p in history] == list(range(len(values)))
    got = [p.value for p in history]
    assert math.isnan(got[0])
    assert got[1:] == values[1:]
    assert math.copysign(1, got[4]) in (1.0, -1.0)
    for i, v in enumerate(values):
        tracking.log_batch(run.run_id, metrics=[Metric(f"latest{i}", v, 0, 0)])
    latest = tracking.get_run(run.run_id).metrics
    assert math.isnan(latest["latest0"].value)
    assert [latest[f"latest{i}"].value for i in range(1, len(values))] == values[1:]


def test_metric_history_is_ordered_by_step_then_timestamp(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    tracking.log_batch(run.run_id, metrics=[Metric("loss", 0.3, 3, 10), Metric("loss", 0.1, 1, 30)])
    tracking.log_batch(run.run_id, metrics=[Metric("loss", 0.2, 2, 20), Metric("loss", 0.15, 1, 5)])
    tracking.log_batch(run.run_id, metrics=[Metric("other", 9.0, 0, 0)])
    history = tracking.get_metric_history(run.run_id, "loss")
    assert [(p.step, p.timestamp, p.value) for p in history] == [(1, 5, 0.15), (1, 30, 0.1), (2, 20, 0.2), (3, 10, 0.3)]
    assert tracking.get_metric_history(run.run_id, "missing") == []


def test_the_latest_metric_is_the_one_with_the_highest_step_whatever_the_arrival_order(
    tracking: TrackingService,
) -> None:
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    tracking.log_batch(run.run_id, metrics=[Metric("auc", 0.9, 5, 100)])
    tracking.log_batch(run.run_id, metrics=[Metric("auc", 0.5, 3, 200)])  # later, but an older step
    assert tracking.get_run(run.run_id).metrics["auc"] == Metric("auc", 0.9, 5, 100)
    tracking.log_batch(run.run_id, metrics=[Metric("auc", 0.95, 5, 150)])  # same step, newer time
    assert tracking.get_run(run.run_id).metrics["auc"].value == 0.95
    tracking.log_batch(run.run_id, metrics=[Metric("auc", 0.7, 9, 1), Metric("auc", 0.8, 7, 2)])  # within a batch
    assert tracking.get_run(run.run_id).metrics["auc"] == Metric("auc", 0.7, 9, 1)


# -- search -----------------------------------------------------------------------------


@pytest.fixture
def populated(tracking: TrackingService) -> dict[str, str]:
    """Five runs with known metrics, params and tags; returns name -> run id."""
    exp = tracking.create_experiment("search")
    other = tracking.create_experiment("elsewhere")
    spec = {
        "a": ({"auc": 0.95, "loss": 0.1}, {"model": "gbm", "depth": "3"}, {"owner": "ann"}),
        "b": ({"auc": 0.85}, {"model": "gbm", "depth": "10"}, {"owner": "bob"}),
        "c": ({"auc": 0.91, "loss": 0.3}, {"model": "rf"}, {}),
        "d": ({}, {"model": "linear"}, {"owner": "ann"}),
        "e": ({"auc": math.nan}, {"model": "rf"}, {}),
    }
    ids = {}
    for i, (name, (ms, ps, ts)) in enumerate(spec.items()):
        run = tracking.create_run(exp.experiment_id, name=name, params=ps, tags=ts, start_time=1000 + i)
        tracking.log_batch(run.run_id, metrics=[Metric(k, v, 0, 0) for k, v in ms.items()])
        ids[name] = run.run_id
    tracking.end_run(ids["a"])
    tracking.create_run(other.experiment_id, name="z", params={"model": "gbm"})
    return ids


def names(tracking: TrackingService, filter: str | None = None, order_by: list[str] | None = None) -> list[str]:
    return [r.name for r in tracking.search_runs("search", filter=filter, order_by=order_by).runs]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (None, {"a", "b", "c", "d", "e"}),
        ("metrics.auc > 0.9", {"a", "c"}),
        ("metrics.auc >= 0.91", {"a", "c"}),
        ("metrics.auc < 0.9", {"b"}),
        ("metrics.auc = 0.85", {"b"}),
        ("metrics.auc != 0.85", {"a", "c"}),
        ("metrics.auc is null", {"d"}),
        ("metrics.loss is not null", {"a", "c"}),
        ("params.model = 'gbm'", {"a", "b"}),
        ("params.model != 'gbm'", {"c", "d", "e"}),
        ("params.model in ('rf', 'linear')", {"c", "d", "e"}),
        ("params.model not in ('rf', 'linear')", {"a", "b"}),
        ("params.model like 'g%'", {"a", "b"}),
        ("params.model ilike 'G%'", {"a", "b"}),
        ("params.depth = 10", {"b"}),  # numbers compare with string params as their text
        ("tags.owner = 'ann'", {"a", "d"}),
        ("tags.owner is null", {"c", "e"}),
        ("attributes.status = 'FINISHED'", {"a"}),
        ("status != 'finished'", {"b", "c", "d", "e"}),
        ("attributes.name in ('a', 'e')", {"a", "e"}),
        ("start_time >= 1003", {"d", "e"}),
        ("metrics.auc > 0.9 and params.model = 'gbm'", {"a"}),
        ("metrics.auc > 0.9 or tags.owner = 'ann'", {"a", "c", "d"}),
        ("not params.model = 'gbm'", {"c", "d", "e"}),
        ("(params.model = 'rf' or params.model = 'gbm') and not metrics.auc < 0.9", {"a", "c", "e"}),
    ],
)
def test_search_filters_on_metrics_params_tags_and_attributes(
    tracking: TrackingService, populated: dict[str, str], filter_: str | None, expected: set[str]
) -> None:
    assert set(names(tracking, filter_)) == expected


def test_search_orders_by_metric_descending_with_missing_and_nan_last(
    tracking: TrackingService, populated: dict[str, str]
) -> None:
    ordered = names(tracking, order_by=["metrics.auc DESC"])
    assert ordered[:3] == ["a", "c", "b"]
    assert set(ordered[3:]) == {"d", "e"}
    ascending = names(tracking, order_by=["metrics.auc ASC"])
    assert ascending[:3] == ["b", "c", "a"]
    assert set(ascending[3:]) == {"d", "e"}


def test_search_orders_by_params_and_attributes_with_ties_broken_stably(
    tracking: TrackingService, populated: dict[str, str]
) -> None:
    # ties on model are broken by newest start time first
    assert names(tracking, order_by=["params.model"]) == ["b", "a", "d", "e", "c"]
    assert names(tracking, order_by=["start_time ASC"]) == ["a", "b", "c", "d", "e"]
    assert names(tracking, order_by=["tags.owner DESC", "name"]) == ["b", "a", "d", "c", "e"]


def test_search_values_that_look_like_sql_are_only_compared_as_text(
    tracking: TrackingService, populated: dict[str, str]
) -> None:
    exp = tracking.get_experiment_by_name("search")
    assert exp is not None
    evil = "x'; DROP TABLE runs; --"
    tracking.create_run(exp.experiment_id, name="evil", params={"model": evil})
    quoted = "'" + evil.replace("'", "''") + "'"
    assert names(tracking, f"params.model = {quoted}") == ["evil"]
    assert len(tracking.search_runs("search").runs) == 6  # the runs table is still there


def test_search_across_experiments_by_name_or_id_and_unknown_names(
    tracking: TrackingService, populated: dict[str, str]
) -> None:
    exp = tracking.get_experiment_by_name("search")
    assert exp is not None
    assert len(tracking.search_runs([exp.experiment_id, "elsewhere"]).runs) == 6
    assert len(tracking.search_runs(None).runs) == 6
    assert tracking.search_runs("no-such-experiment").runs == []


def test_search_syntax_errors_and_bad_limits_are_input_errors(
    tracking: TrackingService, populated: dict[str, str]
) -> None:
    with pytest.raises(FilterSyntaxError):
        tracking.search_runs("search", filter="metrics.auc >")
    with pytest.raises(FilterSyntaxError):
        tracking.search_runs("search", filter="start_time > 'yesterday'")
    for bad in (0, -1, 10_001, True):
        with pytest.raises(InvalidInputError):
            tracking.search_runs("search", max_results=bad)
    with pytest.raises(InvalidInputError):
        tracking.search_runs("search", page_token="garbage!")


def test_page_tokens_walk_every_result_exactly_once(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("many")
    created = set()
    for i in range(23):
        run = tracking.create_run(exp.experiment_id, start_time=1000 + i // 3)  # ties on start_time
        tracking.log_batch(run.run_id, metrics=[Metric("m", float(i % 5))])
        created.add(run.run_id)
    for order in ([], ["metrics.m DESC"]):
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            page = tracking.search_runs("many", order_by=order, max_results=5, page_token=token)
            seen.extend(r.run_id for r in page.runs)
            pages += 1
            token = page.next_page_token
            if token is None:
                break
        assert pages == 5
        assert len(seen) == 23 and set(seen) == created


def test_deleted_runs_are_hidden_from_search_unless_asked_for(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("churn")
    keep = tracking.create_run(exp.experiment_id)
    gone = tracking.create_run(exp.experiment_id)
    tracking.delete_run(gone.run_id)
    assert [r.run_id for r in tracking.search_runs("churn").runs] == [keep.run_id]
    assert len(tracking.search_runs("churn", include_deleted=True).runs) == 2
    assert tracking.get_run(gone.run_id).lifecycle_stage == "deleted"
    with pytest.raises(ConflictError):
        tracking.log_batch(gone.run_id, metrics=[Metric("m", 1.0)])
    tracking.restore_run(gone.run_id)
    assert len(tracking.search_runs("churn").runs) == 2


# -- audit ------------------------------------------------------------------------------


def test_every_mutation_writes_one_audit_row_with_actor_action_and_target(tracking: TrackingService) -> None:
    store = tracking.store
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id)
    tracking.log_batch(run.run_id, metrics=[Metric("m", 1.0)], params={"p": 1})
    tracking.log_artifact_bytes(run.run_id, b"hello", "notes/a.txt")
    tracking.update_run(run.run_id, note="n")
    tracking.end_run(run.run_id)
    tracking.set_experiment_tag(exp.experiment_id, "k", "v")
    tracking.delete_run(run.run_id)
    tracking.delete_experiment(exp.experiment_id)
    entries = store.list_audit()
    assert [e.action for e in entries] == [
        "experiments.create",
        "runs.create",
        "runs.log_batch",
        "runs.log_artifact",
        "runs.update",
        "runs.end",
        "experiments.set_tag",
        "runs.delete",
        "experiments.delete",
    ]
    assert {e.actor for e in entries} == {"tester"}
    assert entries[0].target == f"experiments:/{exp.experiment_id}"
    assert entries[1].target == f"runs:/{run.run_id}"
    assert entries[3].target == f"runs:/{run.run_id}/notes/a.txt"
    assert entries[2].details == {"metrics": 1, "params": ["p"]}
    assert all(e.timestamp > 0 for e in entries)
    assert len(store.list_audit(target=f"runs:/{run.run_id}")) == 6


def test_a_failed_mutation_leaves_no_audit_row(tracking: TrackingService) -> None:
    store = tracking.store
    exp = tracking.create_experiment("churn")
    run = tracking.create_run(exp.experiment_id, params={"p": 1})
    n = len(store.list_audit())
    failing = [
        lambda: tracking.create_experiment("churn"),
        lambda: tracking.log_batch(run.run_id, params={"p": 2}),
        lambda: tracking.delete_tag(run.run_id, "missing"),
        lambda: tracking.end_run("f" * 32),
        lambda: tracking.create_run(exp.experiment_id, run_id=run.run_id),
    ]
    tracking.end_run(run.run_id)
    n += 1
    failing.append(lambda: tracking.log_batch(run.run_id, metrics=[Metric("m", 1.0)]))
    failing.append(lambda: tracking.end_run(run.run_id, RunStatus.FAILED))
    for attempt in failing:
        with pytest.raises((ConflictError, NotFoundError)):
            attempt()
    assert len(store.list_audit()) == n


# -- races between writers ----------------------------------------------------------------


def _race(workers: int, action: Callable[[int], None]) -> list[BaseException | None]:
    """Run ``action(i)`` in ``workers`` threads released at once; return each outcome."""
    barrier = threading.Barrier(workers)
    outcomes: list[BaseException | None] = [None] * workers

    def work(i: int) -> None:
        barrier.wait()
        try:
            action(i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on below
            outcomes[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_racing_writers_of_the_same_new_param_all_succeed_when_they_agree(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("race")
    run = tracking.create_run(exp.experiment_id)
    outcomes = _race(6, lambda i: tracking.log_batch(run.run_id, params={"lr": "0.1"}, metrics=[Metric("m", 1.0, i, 0)]))
    assert outcomes == [None] * 6
    assert tracking.get_run(run.run_id).params == {"lr": "0.1"}
    assert tracking.store.count_metrics(run.run_id) == 6  # type: ignore[attr-defined]


def test_racing_writers_of_the_same_new_param_with_different_values_get_one_winner(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("race")
    run = tracking.create_run(exp.experiment_id)
    outcomes = _race(6, lambda i: tracking.log_batch(run.run_id, params={"lr": str(i)}, metrics=[Metric("m", 1.0, i, 0)]))
    winners = [i for i, o in enumerate(outcomes) if o is None]
    assert len(winners) == 1
    assert all(isinstance(o, ConflictError) for o in outcomes if o is not None)
    assert tracking.get_run(run.run_id).params == {"lr": str(winners[0])}
    assert tracking.store.count_metrics(run.run_id) == 1  # type: ignore[attr-defined]


def test_a_run_ended_while_batches_arrive_keeps_exactly_the_batches_that_succeeded(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("race")
    run = tracking.create_run(exp.experiment_id)
    accepted = []
    lock = threading.Lock()

    def action(i: int) -> None:
        if i == 0:
            tracking.end_run(run.run_id)
            return
        for b in range(5):
            tracking.log_batch(run.run_id, metrics=[Metric(f"w{i}", 1.0, b * 10 + s, 0) for s in range(10)])
            with lock:
                accepted.append((i, b))

    outcomes = _race(5, action)
    assert all(o is None or isinstance(o, ConflictError) for o in outcomes)
    assert tracking.get_run(run.run_id).status is RunStatus.FINISHED
    assert tracking.store.count_metrics(run.run_id) == 10 * len(accepted)  # type: ignore[attr-defined]
