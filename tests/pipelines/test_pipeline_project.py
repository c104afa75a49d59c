"""Pipelines declared in ``steward.yaml``: steps naming ``module:function`` with params,
pipeline parameters (``$name``), dataset parameters (looked up) and inputs from other steps;
run, cached and recorded like a Python pipeline; options as on ``@steward.step``; every fault
of the section (schema and references) names its line."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.errors import CheckFailedError, InvalidInputError
from steward.pipelines import load_project_pipeline, project_faults, run_pipeline
from steward.wiring import Services

STEPS = '''
import steward

def prepare(data, n: int):
    return [b for b in data.content_hash[:n].encode()]

@steward.step(retries=3)
def train(rows, c: float):
    if c < 0:
        raise ValueError("c must be positive")
    return sum(rows) * c

def report(score, rows):
    return {"score": score, "rows": len(rows)}
'''

PROJECT = '''
retrain: {}            # other sections are left to their own readers
pipelines:
  fraud:
    params: {c: 1.0, n: 4}
    datasets: {data: "transactions:1"}
    steps:
      prepare:
        function: {module}:prepare
        params: {data: $data, n: $n}
      train:
        function: {module}:train
        inputs: {rows: prepare}
        params: {c: $c}
        retries: 1
      report:
        function: {module}:report
        inputs: {score: train, rows: prepare}
'''


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


@pytest.fixture
def project(tmp_path: Path, services: Services, request: pytest.FixtureRequest) -> Path:
    rng = np.random.default_rng(0)
    for size in (20, 21):
        services.data("ann").register("transactions", pd.DataFrame({"amount": rng.normal(size=size)}))
    module = f"steps_{abs(hash(request.node.nodeid))}"  # one module per test: imports are cached per process
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(STEPS))
    path = tmp_path / "steward.yaml"
    path.write_text(PROJECT.replace("{module}", module))
    return path


def test_a_yaml_pipeline_runs_is_cached_and_recorded_like_a_python_one(
    client: Client, services: Services, project: Path
) -> None:
    pipe = load_project_pipeline(project)
    first = run_pipeline(pipe, client, {})
    assert [(s.name, s.status) for s in first.steps] == [("prepare", "ran"), ("train", "ran"), ("report", "ran")]
    assert first.output["rows"] == 4 and first.output["score"] > 0
    again = run_pipeline(load_project_pipeline(project), client, {})
    assert [s.status for s in again.steps] == ["cached"] * 3 and again.output == first.output
    changed = run_pipeline(pipe, client, {"c": 2.0, "data": "transactions:2"})
    assert [s.status for s in changed.steps] == ["ran"] * 3
    tracking = services.tracking("ann")
    prepare_run = tracking.get_run(first.steps[0].run_id)
    assert [i.dataset for i in prepare_run.inputs] == ["datasets:/transactions/1"] and prepare_run.params == {"n": "4"}
    report_run = tracking.get_run(first.steps[2].run_id)
    assert report_run.tags["steward.input.rows"] == f"runs:/{first.steps[0].run_id}/outputs/output.pkl"
    # retries: 1 in the file overrides the decorator's 3
    with pytest.raises(CheckFailedError, match=r"step train failed: ValueError: c must be positive \(attempt 2 of 2\)"):
        run_pipeline(pipe, client, {"c": -1.0})
    with pytest.raises(InvalidInputError) as unknown:
        run_pipeline(pipe, client, {"nope": 1})
    assert unknown.value.field == "param"


def test_every_fault_of_the_pipelines_section_names_its_line() -> None:
    text = textwrap.dedent('''\
        pipelines:
          fraud:
            params: {c: 1.0}
            steps:
              prepare:
                function: steps.prepare
                colour: blue
              train:
                function: steps:train
                timeout: soon
                retries: -1
        ''')
    faults = project_faults(text)
    assert (6, "pipelines.fraud.steps.prepare.function: 'steps.prepare' does not match '^[A-Za-z_][\\\\w.]*:[A-Za-z_]\\\\w*$'") in faults
    assert any(line == 7 and "unknown key 'colour'" in m and "function" in m for line, m in faults)
    assert any(line == 10 and "'soon' is not a duration" in m for line, m in faults)
    assert any(line == 11 and "retries" in m for line, m in faults)
    references = textwrap.dedent('''\
        pipelines:
          fraud:
            params: {c: 1.0}
            steps:
              a:
                function: m:a
                inputs: {x: b}
              b:
                function: m:b
                inputs: {y: a}
                params: {c: $nope}
              d:
                function: m:d
                inputs: {z: ghost}
        ''')
    faults = project_faults(references)
    assert any(line == 11 and "'$nope' names no pipeline param" in m for line, m in faults), faults
    assert any(line == 14 and "no step 'ghost'" in m for line, m in faults), faults
    assert any(line == 5 and "cycle: a -> b -> a" in m for line, m in faults), faults
    assert project_faults("pipelines: [\n") and project_faults("pipelines: [\n")[0][1].startswith("YAML syntax")
    assert project_faults("retrain: {}\n") == []


def test_a_faulty_file_or_a_missing_pipeline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "steward.yaml"
    path.write_text("pipelines:\n  fraud:\n    steps: {}\n")
    with pytest.raises(InvalidInputError, match=r"steward.yaml:3: pipelines.fraud.steps"):
        load_project_pipeline(path)
    path.write_text("pipelines:\n  a: {steps: {s: {function: 'm:f'}}}\n  b: {steps: {s: {function: 'm:f'}}}\n")
    with pytest.raises(InvalidInputError, match="declares 2 pipelines"):
        load_project_pipeline(path)
    with pytest.raises(InvalidInputError, match="cannot import 'm'"):
        load_project_pipeline(path, "a")


def test_the_retrain_section_is_checked_by_the_same_schema_and_names_its_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from steward.cli import app
    from steward.stewardship.lifecycle import load_spec

    text = textwrap.dedent('''\
        retrain:
          fraud:
            train: fraud_training.train
            data: fraud-train
            tiemout: 900
          churn: 3
        ''')
    faults = project_faults(text)
    assert any(line == 3 and m.startswith("retrain.fraud.train:") for line, m in faults), faults
    assert any(line == 5 and "unknown key 'tiemout'" in m and "timeout" in m for line, m in faults), faults
    assert any(line == 6 and m.startswith("retrain.churn:") and "object" in m for line, m in faults), faults
    path = tmp_path / "steward.yaml"
    path.write_text(text)
    # `steward retrain` refuses the file with the lines `steward check` shows, before doing anything
    with pytest.raises(InvalidInputError, match=r"steward.yaml:3: retrain.fraud.train") as refused:
        load_spec("fraud", path)
    assert "steward.yaml:5:" in str(refused.value)
    checked = CliRunner().invoke(app, ["check", str(path)])
    assert checked.exit_code == 1 and "steward.yaml:5: retrain.fraud: unknown key 'tiemout'" in checked.output
    # a faulty pipelines section is the pipelines' business, not retraining's
    path.write_text("pipelines:\n  p:\n    steps: {}\nretrain:\n  fraud: {train: 'm:f', data: d, target: y, gate: g.yaml}\n")
    (tmp_path / "g.yaml").write_text("metrics: {}\n")
    spec = load_spec("fraud", path)
    assert spec.train == "m:f" and spec.target == "y"
    path.write_text("retrain:\n  fraud: {timeout: 0}\n")
    with pytest.raises(InvalidInputError, match=r"steward.yaml:2: retrain.fraud.timeout"):
        load_spec("fraud", path)
