"""Steps in a subprocess of their own, with a time limit and retries: a timed-out step's whole
process group is killed and the pipeline fails naming the step, its error and the attempts;
a crash (a signal, an exit) is a failure like an exception; a step that fails and then
succeeds is retried; the steps before a failure stay cached, so a re-run skips them; an
isolated step's output (a class of the pipeline file included) is the same as in-process."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward import Client, Settings
from steward.errors import CheckFailedError, InvalidInputError
from steward.pipelines import StepOptions, load_pipeline, run_pipeline, step
from steward.wiring import Services

PIPELINE = '''
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import steward

STATE = Path(__file__).parent / "state"

@dataclasses.dataclass
class Model:
    weights: list[float]

@steward.step(isolate=True)
def prepare(n: int):
    return Model([float(i) for i in range(n)])

@steward.step(timeout="{timeout}", retries=1)
def train(model, mode: str):
    if mode == "hang":  # a grandchild too: the whole process group goes on timeout
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        (STATE / "grandchild.pid").write_text(str(child.pid))
        time.sleep(120)
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "raise":
        print("about to fail")
        raise KeyError("boom")
    if mode == "flaky":
        count = STATE / "count"
        seen = int(count.read_text()) if count.exists() else 0
        count.write_text(str(seen + 1))
        if seen < 1:
            raise RuntimeError(f"flaky attempt {{seen + 1}}")
    return Model([w * 2 for w in model.weights])

@steward.pipeline
def fit(n: int = 3, mode: str = "ok"):
    return train(prepare(n), mode)
'''


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


def _load(tmp_path: Path, timeout: str = "3s") -> object:
    (tmp_path / "state").mkdir(exist_ok=True)
    path = tmp_path / "fit.py"
    path.write_text(textwrap.dedent(PIPELINE.format(timeout=timeout)))
    return load_pipeline(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_an_isolated_step_returns_what_it_would_in_process_and_is_cached(client: Client, tmp_path: Path) -> None:
    pipe = _load(tmp_path)
    first = run_pipeline(pipe, client, {"n": 3})  # type: ignore[arg-type]
    assert [(s.name, s.status, s.attempts) for s in first.steps] == [("prepare", "ran", 1), ("train", "ran", 1)]
    assert type(first.output).__name__ == "Model" and first.output.weights == [0.0, 2.0, 4.0]
    assert type(first.output) is type(pipe.fn.__globals__["Model"](weights=[]))  # type: ignore[attr-defined]
    again = run_pipeline(pipe, client, {"n": 3})  # type: ignore[arg-type]
    assert [s.status for s in again.steps] == ["cached", "cached"] and again.output == first.output


def test_a_timed_out_step_kills_its_process_group_and_fails_naming_step_error_and_attempts(
    client: Client, services: Services, tmp_path: Path
) -> None:
    pipe = _load(tmp_path, timeout="1s")
    began = time.monotonic()
    with pytest.raises(CheckFailedError) as exc:
        run_pipeline(pipe, client, {"n": 3, "mode": "hang"})  # type: ignore[arg-type]
    assert time.monotonic() - began < 60
    message = str(exc.value)
    assert "step train failed: TimeoutError: step train exceeded its time limit of 1s" in message, message
    assert "(attempt 2 of 2)" in message
    grandchild = int((tmp_path / "state" / "grandchild.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the step's grandchild outlived the time limit"
    failed = services.tracking("ann").search_runs(["fit"], filter="tags.`steward.step` = 'train'").runs
    assert [(r.status.value, r.tags["steward.attempts"]) for r in failed] == [("failed", "2")]
    # the step before the failure is reused by the next run, which succeeds
    fixed = run_pipeline(pipe, client, {"n": 3, "mode": "ok"})  # type: ignore[arg-type]
    assert [(s.name, s.status) for s in fixed.steps] == [("prepare", "cached"), ("train", "ran")]


def test_a_crashed_step_fails_the_pipeline_and_a_flaky_one_is_retried(client: Client, services: Services, tmp_path: Path) -> None:
    pipe = _load(tmp_path)
    with pytest.raises(CheckFailedError, match=r"step train failed: StepCrashed: step train crashed \(killed by signal SIGKILL\).*\(attempt 2 of 2\)"):
        run_pipeline(pipe, client, {"n": 2, "mode": "crash"})  # type: ignore[arg-type]
    flaky = run_pipeline(pipe, client, {"n": 2, "mode": "flaky"})  # type: ignore[arg-type]
    assert [(s.name, s.status, s.attempts) for s in flaky.steps] == [("prepare", "cached", 0), ("train", "ran", 2)]
    assert services.tracking("ann").get_run(flaky.steps[1].run_id).tags["steward.attempts"] == "2"


def test_an_isolated_steps_traceback_is_kept_with_its_run_not_printed(
    client: Client, services: Services, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CheckFailedError, match=r"step train failed: KeyError: 'boom' \(attempt 2 of 2\)"):
        run_pipeline(_load(tmp_path), client, {"n": 2, "mode": "raise"})  # type: ignore[arg-type]
    printed = capfd.readouterr().err
    assert "about to fail" in printed and "Traceback" not in printed
    failed = services.tracking("ann").search_runs(["fit"], filter="tags.`steward.step` = 'train'").runs[0]
    kept = client.read_artifact(failed.run_id, "outputs/traceback.txt").decode()
    assert kept.startswith("Traceback") and "KeyError: 'boom'" in kept


def test_retries_work_in_process_too_with_a_doubling_backoff() -> None:
    from steward.pipelines._isolate import call_step

    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ValueError(f"attempt {len(calls)}")
        return "ok"

    outcome = call_step(flaky, (), {}, StepOptions.of(retries=3, retry_backoff="50ms"), "flaky")
    assert (outcome.ok, outcome.output, outcome.attempts) == (True, "ok", 3)
    assert calls[2] - calls[1] >= 0.09 and calls[1] - calls[0] >= 0.045
    calls.clear()
    failed = call_step(flaky, (), {}, StepOptions.of(retries=1), "flaky")
    assert (failed.ok, failed.error, failed.attempts) == (False, "ValueError: attempt 2", 2)


def test_bad_step_options_are_refused_naming_the_option() -> None:
    for kwargs, field in (({"timeout": "5x"}, "timeout"), ({"retries": -1}, "retries"), ({"retry_backoff": "soon"}, "retry_backoff")):
        with pytest.raises(InvalidInputError) as exc:
            step(**kwargs)
        assert exc.value.field == field
    assert StepOptions.of(timeout="5m") == StepOptions(isolate=True, timeout=300.0)
