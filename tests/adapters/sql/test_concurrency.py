"""Eight processes logging to one store at once: nothing lost, nothing duplicated."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from steward import Client, Settings
from steward.adapters.sql import SqlStore

PROCESSES = 8
RUNS_PER_PROCESS = 2
KEYS = ("loss", "acc", "lr")
STEPS = 400
PARAMS_PER_RUN = 10


def _log_from_one_process(args: tuple[str, str, int]) -> list[str]:
    """Runs in a spawned process: create runs through the SDK and log a known workload."""
    database_url, artifact_root, worker = args
    settings = Settings(
        database_url=database_url,
        artifact_root=artifact_root,
        user=f"worker-{worker}",
        capture_git=False,
        capture_packages=False,
        flush_interval=0.05,  # many small flushes, so processes really interleave
    )
    client = Client(settings)
    run_ids = []
    try:
        for r in range(RUNS_PER_PROCESS):
            with client.start_run("load", name=f"w{worker}-r{r}") as run:
                run.log_params({f"p{i}": f"{worker}-{r}-{i}" for i in range(PARAMS_PER_RUN)})
                for step in range(STEPS):
                    run.log_metrics({k: float(step * 1000 + worker) for k in KEYS}, step=step)
                    if step % 100 == 0:
                        time.sleep(0.01)  # let the background flush interleave with other processes
                run_ids.append(run.run_id)
    finally:
        client.close()
    return run_ids


def _run_workload(database_url: str, artifact_root: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with ctx.Pool(PROCESSES) as pool:
        results = pool.map(_log_from_one_process, [(database_url, artifact_root, w) for w in range(PROCESSES)])
    elapsed = time.monotonic() - started
    run_ids = [rid for ids in results for rid in ids]
    assert len(set(run_ids)) == PROCESSES * RUNS_PER_PROCESS
    assert elapsed < 60, f"the concurrent workload took {elapsed:.1f} s"

    store = SqlStore(database_url)
    try:
        assert store.count_metrics() == PROCESSES * RUNS_PER_PROCESS * len(KEYS) * STEPS
        experiments = store.list_experiments()
        assert [e.name for e in experiments] == ["load"]  # get-or-create raced, one experiment won
        for run_id in run_ids:
            run = store.get_run(run_id)
            assert run.status.value == "finished"
            assert len(run.params) == PARAMS_PER_RUN
            worker = int(run.name.split("-")[0][1:])
            for key in KEYS:
                history = store.get_metric_history(run_id, key)
                assert [p.step for p in history] == list(range(STEPS))
                assert [p.value for p in history] == [float(s * 1000 + worker) for s in range(STEPS)]
                assert run.metrics[key].step == STEPS - 1
    finally:
        store.close()


@pytest.mark.slow
def test_eight_processes_logging_to_one_sqlite_store_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    _run_workload(f"sqlite:///{tmp_path / 'shared.db'}", str(tmp_path / "artifacts"))


@pytest.mark.slow
def test_eight_processes_logging_to_one_postgresql_schema_lose_and_duplicate_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    _run_workload(pg_url, str(tmp_path / "artifacts"))
