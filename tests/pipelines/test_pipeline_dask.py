"""The Dask executor on a real ``LocalCluster`` (two worker processes): independent steps run
at the same time; outputs, cache keys and run records are those of the local executor (a run
on one is a cache hit on the other); a failed step fails the pipeline naming it while its
finished siblings stay cached; a pipeline function that looks at a step's output is refused."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steward import Client, Settings
from steward.errors import CheckFailedError, InvalidInputError
from steward.pipelines import load_pipeline, run_pipeline
from steward.wiring import Services

PIPELINE = '''
from __future__ import annotations

import time
from pathlib import Path

import steward

STATE = Path(__file__).parent / "state"

def _span(name, pause):
    began = time.time()
    time.sleep(pause)
    (STATE / f"{name}.span").write_text(f"{began} {time.time()}")

@steward.step
def prepare(n: int):
    return list(range(n))

@steward.step
def left(rows, pause: float):
    _span("left", pause)
    return [r * 2 for r in rows]

@steward.step(retries=1)
def right(rows, pause: float, fail: bool):
    _span("right", pause)
    if fail:
        raise ValueError("right refused")
    return [r + 1 for r in rows]

@steward.step
def combine(a, b):
    return {"sum": sum(a) + sum(b), "parts": [a, b]}

@steward.pipeline
def diamond(n: int = 4, pause: float = 0.0, fail: bool = False):
    rows = prepare(n)
    return combine(left(rows, pause), right(rows, pause, fail))

@steward.pipeline
def peeking(n: int = 4):
    rows = prepare(n)
    if rows:
        return left(rows, 0.0)
    return None
'''


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")  # type: ignore[no-untyped-call]
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


def _load(tmp_path: Path, name: str = "diamond") -> Any:  # Any: the Pipeline
    (tmp_path / "state").mkdir(exist_ok=True)
    path = tmp_path / "flows.py"
    path.write_text(textwrap.dedent(PIPELINE))
    return load_pipeline(path, name)


def _span(tmp_path: Path, name: str) -> tuple[float, float]:
    began, ended = (tmp_path / "state" / f"{name}.span").read_text().split()
    return float(began), float(ended)


def test_independent_steps_run_in_parallel_with_the_local_executors_keys_outputs_and_records(
    client: Client, services: Services, scheduler: str, tmp_path: Path
) -> None:
    pipe = _load(tmp_path)
    on_dask = run_pipeline(pipe, client, {"n": 4, "pause": 2.0}, executor="dask", scheduler=scheduler)
    assert sorted((s.name, s.status) for s in on_dask.steps) == [
        ("combine", "ran"), ("left", "ran"), ("prepare", "ran"), ("right", "ran"),
    ]
    (l0, l1), (r0, r1) = _span(tmp_path, "left"), _span(tmp_path, "right")
    assert max(l0, r0) < min(l1, r1), "left and right did not overlap"
    assert on_dask.output == {"sum": 12 + 10, "parts": [[0, 2, 4, 6], [1, 2, 3, 4]]}
    # the local executor finds every step cached under the same keys, and returns the same
    local = run_pipeline(pipe, client, {"n": 4, "pause": 2.0})
    assert [s.status for s in local.steps] == ["cached"] * 4 and local.output == on_dask.output
    by_name = {s.name: s for s in on_dask.steps}
    assert {s.name: s.cache_key for s in local.steps} == {n: s.cache_key for n, s in by_name.items()}
    assert {s.name: s.cached_from for s in local.steps} == {n: s.run_id for n, s in by_name.items()}
    # and the other way round: what the local executor ran, Dask reuses
    fresh = run_pipeline(pipe, client, {"n": 5})
    again = run_pipeline(pipe, client, {"n": 5}, executor="dask", scheduler=scheduler)
    assert [s.status for s in again.steps] == ["cached"] * 4 and again.output == fresh.output
    # run records: the same tags and params as the local executor writes
    tracking = services.tracking("ann")
    dask_combine, local_combine = tracking.get_run(by_name["combine"].run_id), tracking.get_run(fresh.steps[-1].run_id)
    assert dask_combine.tags["mlflow.parentRunId"] == on_dask.run_id
    assert dask_combine.tags["steward.input.a"] == f"runs:/{by_name['left'].run_id}/outputs/output.pkl"
    assert dask_combine.tags["steward.input.b"] == f"runs:/{by_name['right'].run_id}/outputs/output.pkl"
    keys = {k for k in dask_combine.tags if k.startswith("steward.")}
    assert keys == {k for k in local_combine.tags if k.startswith("steward.")}
    assert tracking.get_run(by_name["left"].run_id).params == {"pause": "2.0"}


def test_a_failed_step_fails_the_pipeline_and_its_finished_sibling_stays_cached(
    client: Client, scheduler: str, tmp_path: Path
) -> None:
    pipe = _load(tmp_path)
    with pytest.raises(CheckFailedError, match=r"step right failed: ValueError: right refused \(attempt 2 of 2\)"):
        run_pipeline(pipe, client, {"n": 3, "fail": True}, executor="dask", scheduler=scheduler)
    again = run_pipeline(pipe, client, {"n": 3, "fail": False}, executor="dask", scheduler=scheduler)
    assert sorted((s.name, s.status) for s in again.steps) == [
        ("combine", "ran"), ("left", "cached"), ("prepare", "cached"), ("right", "ran"),
    ]


def test_looking_at_a_steps_output_or_no_scheduler_is_refused(client: Client, scheduler: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="only wires steps together") as exc:
        run_pipeline(_load(tmp_path, "peeking"), client, {}, executor="dask", scheduler=scheduler)
    assert exc.value.field == "executor"
    with pytest.raises(InvalidInputError) as missing:
        run_pipeline(_load(tmp_path), client, {}, executor="dask")
    assert missing.value.field == "scheduler"
    with pytest.raises(InvalidInputError) as unknown:
        run_pipeline(_load(tmp_path), client, {}, executor="ray")
    assert unknown.value.field == "executor"


def test_a_steward_yaml_pipeline_runs_on_dask_with_the_same_keys(client: Client, scheduler: str, tmp_path: Path) -> None:
    from steward.pipelines import load_project_pipeline

    (tmp_path / "dask_yaml_steps.py").write_text("def make(n):\n    return list(range(n))\n\ndef add(a, b):\n    return sum(a) + sum(b)\n")
    (tmp_path / "steward.yaml").write_text(textwrap.dedent("""\
        pipelines:
          sums:
            params: {n: 3}
            steps:
              one: {function: "dask_yaml_steps:make", params: {n: $n}}
              two: {function: "dask_yaml_steps:make", params: {n: 4}}
              both: {function: "dask_yaml_steps:add", inputs: {a: one, b: two}}
        """))
    pipe = load_project_pipeline(tmp_path / "steward.yaml")
    on_dask = run_pipeline(pipe, client, {}, executor="dask", scheduler=scheduler)
    assert on_dask.output == 3 + 6 and sorted(s.status for s in on_dask.steps) == ["ran"] * 3
    local = run_pipeline(pipe, client, {})
    assert [s.status for s in local.steps] == ["cached"] * 3 and local.output == on_dask.output
