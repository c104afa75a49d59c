"""Pipelines in-process on SQLite and PostgreSQL: every step a run linked to the pipeline's
run with its inputs' lineage; a re-run skips unchanged steps and says so; a changed dataset
version, parameter or code (the step's, or a helper's it calls) re-runs what depends on it;
a failed step fails the pipeline naming it and leaves earlier outputs cached."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.errors import CheckFailedError, InvalidInputError
from steward.pipelines import load_pipeline, run_pipeline
from steward.wiring import Services

PIPELINE = '''
from __future__ import annotations

import steward
from steward.data import DatasetVersion

def scale(x):
    return x * 2

@steward.step
def prepare(data):
    return [scale(v) for v in data.content_hash[:4].encode()]

@steward.step
def train(rows, c: float):
    return {"weights": [r * c for r in rows]}

@steward.step
def evaluate(model):
    if model["weights"] and model["weights"][0] < 0:
        raise ValueError("negative weights")
    return sum(model["weights"])

@steward.pipeline
def fraud(data: DatasetVersion = "transactions:1", c: float = 1.0):  # a reference is looked up
    return evaluate(train(prepare(data), c))
'''


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


def _write(tmp_path: Path, text: str = PIPELINE) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(text))
    return path


def _statuses(result: object) -> dict[str, str]:
    return {s.name: s.status for s in result.steps}  # type: ignore[attr-defined]


@pytest.fixture
def data(services: Services) -> None:
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        services.data("ann").register("transactions", pd.DataFrame({"amount": rng.normal(size=20 + seed)}))


def test_a_rerun_skips_unchanged_steps_and_records_each_as_a_linked_run(
    client: Client, services: Services, data: None, tmp_path: Path
) -> None:
    pipe = load_pipeline(_write(tmp_path))
    first = run_pipeline(pipe, client, {"data": "transactions:1", "c": 1.0})
    assert _statuses(first) == {"prepare": "ran", "train": "ran", "evaluate": "ran"}
    again = run_pipeline(pipe, client, {"data": "transactions:1", "c": 1.0})
    assert _statuses(again) == {"prepare": "cached", "train": "cached", "evaluate": "cached"}
    assert again.output == first.output
    assert [s.cached_from for s in again.steps] == [s.run_id for s in first.steps]
    tracking = services.tracking("ann")
    for report in first.steps:
        run = tracking.get_run(report.run_id)
        assert run.tags["mlflow.parentRunId"] == first.run_id and run.tags["steward.step"] == report.name
    prepare_run = tracking.get_run(first.steps[0].run_id)
    assert [i.dataset for i in prepare_run.inputs] == ["datasets:/transactions/1"]
    train_run = tracking.get_run(first.steps[1].run_id)
    assert train_run.tags["steward.input.rows"] == f"runs:/{first.steps[0].run_id}/outputs/output.pkl"
    assert train_run.params["c"] == "1.0"


def test_a_changed_dataset_version_param_or_code_reruns_what_depends_on_it(
    client: Client, data: None, tmp_path: Path
) -> None:
    run_pipeline(load_pipeline(_write(tmp_path)), client, {"data": "transactions:1", "c": 1.0})
    by_param = run_pipeline(load_pipeline(_write(tmp_path)), client, {"data": "transactions:1", "c": 2.0})
    assert _statuses(by_param) == {"prepare": "cached", "train": "ran", "evaluate": "ran"}
    by_data = run_pipeline(load_pipeline(_write(tmp_path)), client, {"data": "transactions:2", "c": 1.0})
    assert _statuses(by_data) == {"prepare": "ran", "train": "ran", "evaluate": "ran"}
    # a helper the step calls changed: the step re-runs (its output changed, so the rest too)
    helper = _write(tmp_path, PIPELINE.replace("return x * 2", "return x * 3"))
    by_code = run_pipeline(load_pipeline(helper), client, {"data": "transactions:1", "c": 1.0})
    assert _statuses(by_code) == {"prepare": "ran", "train": "ran", "evaluate": "ran"}
    # the last step's own code changed: only it re-runs
    last = _write(tmp_path, PIPELINE.replace("return x * 2", "return x * 3").replace("return sum(", "return 0 + sum("))
    assert _statuses(run_pipeline(load_pipeline(last), client, {"data": "transactions:1", "c": 1.0})) == {
        "prepare": "cached", "train": "cached", "evaluate": "ran",
    }


def test_a_failed_step_fails_the_pipeline_naming_it_and_earlier_outputs_stay_cached(
    client: Client, services: Services, data: None, tmp_path: Path
) -> None:
    pipe = load_pipeline(_write(tmp_path))
    with pytest.raises(CheckFailedError, match="step evaluate failed: ValueError: negative weights"):
        run_pipeline(pipe, client, {"data": "transactions:1", "c": -1.0})
    failed = services.tracking("ann").search_runs(["fraud"], filter="tags.`steward.step` = 'evaluate'").runs
    assert [r.status.value for r in failed] == ["failed"]
    parents = services.tracking("ann").search_runs(["fraud"], filter="tags.`steward.pipeline` = 'fraud'").runs
    assert {r.status.value for r in parents if "steward.step" not in r.tags} == {"failed"}
    # the steps before the failure are reused: the same call fails again at once, in evaluate
    with pytest.raises(CheckFailedError, match="step evaluate failed"):
        run_pipeline(pipe, client, {"data": "transactions:1", "c": -1.0})
    trains = services.tracking("ann").search_runs(["fraud"], filter="tags.`steward.step` = 'train'").runs
    assert sorted("steward.cached_from" in r.tags for r in trains) == [False, True]
    again = run_pipeline(pipe, client, {"data": "transactions:1", "c": 2.0})
    assert _statuses(again) == {"prepare": "cached", "train": "ran", "evaluate": "ran"}


def test_an_unknown_parameter_or_missing_pipeline_is_refused_naming_the_field(client: Client, tmp_path: Path) -> None:
    pipe = load_pipeline(_write(tmp_path))
    with pytest.raises(InvalidInputError) as exc:
        run_pipeline(pipe, client, {"nope": 1})
    assert exc.value.field == "param"
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(InvalidInputError, match="defines 0 pipelines"):
        load_pipeline(empty)
