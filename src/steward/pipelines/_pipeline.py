"""``@steward.step`` and ``@steward.pipeline``: plain Python functions run in this process,
each step recorded as a run linked to the pipeline's run, its output cached by a key over
its code, parameters and inputs (see :mod:`._keys`), so a re-run skips unchanged steps.

Outside :func:`run_pipeline` a step is an ordinary function call (no run, no cache).
"""

from __future__ import annotations

import inspect
import pickle
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from steward.core import RunStatus
from steward.errors import CheckFailedError, InvalidInputError

from ._isolate import Outcome, StepOptions, call_step
from ._keys import code_hash, step_key, value_hash

if TYPE_CHECKING:
    from steward.sdk import Client
    from steward.sdk._run import ActiveRun

__all__ = ["EXECUTORS", "Pipeline", "PipelineResult", "Step", "StepReport", "pipeline", "run_pipeline", "step"]

P = ParamSpec("P")
R = TypeVar("R")
OUTPUT = "outputs/output.pkl"
KEY_TAG = "steward.cache_key"
PARENT_TAG = "mlflow.parentRunId"  # MLflow's spelling: its UI nests the step runs under the pipeline's
ATTEMPTS_TAG = "steward.attempts"
TRACEBACK = "outputs/traceback.txt"
EXECUTORS = ("local", "dask")


@dataclass(frozen=True, slots=True)
class StepReport:
    """What happened to one step: ``ran``, ``cached`` (with the run it reused) or ``failed``."""

    name: str
    status: str
    run_id: str
    cache_key: str
    seconds: float
    cached_from: str | None = None
    error: str | None = None
    attempts: int = 0  # 0 when cached (the step was not called)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "status": self.status, "run_id": self.run_id, "cache_key": self.cache_key,
            "seconds": round(self.seconds, 3), "cached_from": self.cached_from, "error": self.error,
            "attempts": self.attempts,
        }


@dataclass(slots=True)
class PipelineResult:
    """A pipeline's run, its steps in the order they ran, and what it returned."""

    name: str
    run_id: str
    status: str
    steps: list[StepReport] = field(default_factory=list)
    output: Any = None  # Any: whatever the pipeline function returns

    def to_dict(self) -> dict[str, object]:
        return {"pipeline": self.name, "run_id": self.run_id, "status": self.status, "steps": [s.to_dict() for s in self.steps]}


class _Marked(Generic[P, R]):
    def __init__(self, fn: Callable[P, R], name: str) -> None:
        self.fn = fn
        self.name = name
        self.__wrapped__ = fn  # code_hash and inspect.unwrap reach the function
        self.__doc__ = fn.__doc__


class Step(_Marked[P, R]):
    """A function marked with :func:`step`, and how it is called (:class:`StepOptions`)."""

    def __init__(self, fn: Callable[P, R], name: str, options: StepOptions | None = None) -> None:
        super().__init__(fn, name)
        self.options = options or StepOptions()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        execution = _CURRENT.get()
        if execution is None:
            return self.fn(*args, **kwargs)
        result: R = execution.run_step(self, args, kwargs)
        return result


class Pipeline(_Marked[P, R]):
    """A function marked with :func:`pipeline`: it calls steps; its parameters are the pipeline's."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)


def _check_name(name: str) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name):
        raise InvalidInputError(f"pipeline and step names are lowercase [a-z0-9_-], at most 63: {name[:70]!r}", field="name")
    return name


def step(
    fn: Callable[P, R] | None = None,
    *,
    name: str | None = None,
    isolate: bool = False,
    timeout: str | float | None = None,
    retries: int = 0,
    retry_backoff: str | float = 0.0,
) -> Any:  # Any: a Step, or a decorator making one
    """Mark a function as a pipeline step (cached, recorded as a run when a pipeline runs it).

    Args:
        isolate: call it in a subprocess of its own (a crash fails the step, not the pipeline's process).
        timeout: a time limit per attempt (``"5m"``, or seconds); implies ``isolate``; the
            step's whole process group is killed when it is reached.
        retries: attempts after a failure (an exception, a crash or a timeout).
        retry_backoff: the wait before the first retry (``"2s"``), doubling after each.

    Raises:
        InvalidInputError: a bad name, duration or retry count.

    Example:
        >>> @steward.step(isolate=True, timeout="5m", retries=2, retry_backoff="2s")  # doctest: +SKIP
        ... def train(data, c: float): ...
    """
    options = StepOptions.of(isolate=isolate, timeout=timeout, retries=retries, retry_backoff=retry_backoff)

    def wrap(f: Callable[P, R]) -> Step[P, R]:
        return Step(f, _check_name(name or f.__name__.replace("_", "-").lower()), options)

    return wrap(fn) if fn is not None else wrap


def pipeline(fn: Callable[P, R] | None = None, *, name: str | None = None) -> Any:  # Any: as step
    """Mark the function that composes steps; ``steward pipeline run FILE`` runs it.

    Example:
        >>> @steward.pipeline  # doctest: +SKIP
        ... def fraud(c: float = 1.0):
        ...     return train(prepare("transactions:3"), c)
    """
    def wrap(f: Callable[P, R]) -> Pipeline[P, R]:
        return Pipeline(f, _check_name(name or f.__name__.replace("_", "-").lower()))

    return wrap(fn) if fn is not None else wrap


@dataclass(slots=True)
class _Call:
    """One call of a step, bound and keyed, before it runs."""

    step: Step[Any, Any]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    key: str
    tags: dict[str, object]
    params: dict[str, object]
    datasets: list[object]


class _Execution:
    """Runs each step as it is called (the local executor); :mod:`._dask` schedules them instead."""

    def __init__(self, client: Client, experiment: str, parent_run_id: str, result: PipelineResult) -> None:
        self.client = client
        self.experiment = experiment
        self.parent = parent_run_id
        self.result = result
        self.produced: dict[int, tuple[object, str]] = {}  # id(output) -> (output kept alive, run id)

    def _cached_run(self, key: str) -> str | None:
        page = self.client.search_runs(self.experiment, filter=f"tags.`{KEY_TAG}` = '{key}'", max_results=10)
        for run in page.runs:
            if run.status is RunStatus.FINISHED:
                return run.run_id
        return None

    def prepare(self, st: Step[Any, Any], args: tuple[object, ...], kwargs: Mapping[str, object]) -> _Call:
        """Bind the arguments, key the call, and gather its tags, params and dataset inputs."""
        bound = inspect.signature(st.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        key = step_key(st.name, code_hash(st.fn), {k: value_hash(v) for k, v in arguments.items()})
        tags: dict[str, object] = {PARENT_TAG: self.parent, "steward.pipeline": self.result.name, "steward.step": st.name}
        for arg, value in arguments.items():
            upstream = self.produced.get(id(value))
            if upstream is not None and upstream[0] is value:
                tags[f"steward.input.{arg}"] = f"runs:/{upstream[1]}/{OUTPUT}"
        params: dict[str, object] = {
            k: v for k, v in arguments.items() if isinstance(v, (str, int, float, bool)) and not isinstance(v, type)
        }
        datasets = [v for v in arguments.values() if isinstance(getattr(v, "content_hash", None), str)]
        return _Call(st, tuple(bound.args), dict(bound.kwargs), key, tags, params, datasets)

    def reuse(self, call: _Call) -> tuple[bool, Any]:  # Any: the step's output
        """A finished run with the same key: record the reuse and return its output."""
        started = time.monotonic()
        hit = self._cached_run(call.key)
        if hit is None:
            return False, None
        output = pickle.loads(self.client.read_artifact(hit, OUTPUT))  # our own store wrote it (a trusted store is assumed)
        with self.client.start_run(
            self.experiment, name=call.step.name, params=call.params, tags={**call.tags, "steward.cached_from": hit}
        ) as run:
            for ds in call.datasets:
                run.log_input(ds)  # type: ignore[arg-type]  # a DatasetVersion (has content_hash)
        self.result.steps.append(StepReport(call.step.name, "cached", run.run_id, call.key, time.monotonic() - started, cached_from=hit))
        self.produced[id(output)] = (output, run.run_id)
        return True, output

    def start(self, call: _Call) -> tuple[ActiveRun, float]:
        run = self.client.start_run(self.experiment, name=call.step.name, params=call.params, tags=call.tags)
        try:
            for ds in call.datasets:
                run.log_input(ds)  # type: ignore[arg-type]  # a DatasetVersion (has content_hash)
        except Exception as exc:
            run.end(RunStatus.FAILED, failure=f"{type(exc).__name__}: {exc}")
            raise
        return run, time.monotonic()

    def finish(self, call: _Call, run: ActiveRun, started: float, outcome: Outcome) -> Any:  # Any: the step's output
        """Store the output and key of a step that ran, or fail it (raises :class:`_StepFailed`)."""
        name = call.step.name
        error = outcome.error
        if outcome.ok:
            try:
                self.client.backend.log_artifact_bytes(run.run_id, pickle.dumps(outcome.output, protocol=5), OUTPUT)
                run.set_tags({ATTEMPTS_TAG: outcome.attempts, KEY_TAG: call.key})  # key last: a half-stored step is never a hit
            except Exception as exc:  # noqa: BLE001 - storing the output failed: the step fails
                error = f"{type(exc).__name__}: {exc}"
        if error is not None or not outcome.ok:
            message = f"{error} (attempt {outcome.attempts} of {call.step.options.attempts})"
            run.set_tag(ATTEMPTS_TAG, outcome.attempts)
            if outcome.detail:
                try:  # the step's traceback (or a crashed subprocess's output), kept with its run
                    self.client.backend.log_artifact_bytes(run.run_id, outcome.detail.encode(errors="replace"), TRACEBACK)
                except Exception:  # noqa: BLE001, S110 - the step's own failure is what gets reported
                    pass
            run.end(RunStatus.FAILED, failure=message)
            self.result.steps.append(
                StepReport(name, "failed", run.run_id, call.key, time.monotonic() - started, error=message, attempts=outcome.attempts)
            )
            raise _StepFailed(name, message, outcome.exception)
        run.end(RunStatus.FINISHED)
        self.result.steps.append(StepReport(name, "ran", run.run_id, call.key, time.monotonic() - started, attempts=outcome.attempts))
        self.produced[id(outcome.output)] = (outcome.output, run.run_id)
        return outcome.output

    def run_step(self, st: Step[Any, Any], args: tuple[object, ...], kwargs: Mapping[str, object]) -> Any:  # Any: the step's output
        call = self.prepare(st, args, kwargs)
        hit, output = self.reuse(call)
        if hit:
            return output
        run, started = self.start(call)
        return self.finish(call, run, started, call_step(st.fn, call.args, call.kwargs, st.options, st.name))

    def complete(self, output: Any) -> Any:  # Any: what the pipeline function returned
        """After the pipeline function returned: nothing is left to run in this executor."""
        return output

    def close(self) -> None:
        """Release what the executor holds (a Dask client)."""


class _StepFailed(Exception):
    def __init__(self, name: str, message: str, exc: BaseException | None = None) -> None:
        super().__init__(name)
        self.step = name
        self.message = message
        self.exc = exc


def _resolve_datasets(pipe: Pipeline[..., Any], client: Client, arguments: dict[str, Any]) -> dict[str, Any]:  # Any: argument values
    """A parameter annotated ``DatasetVersion`` given as a reference (``transactions:3``) is
    looked up, so its steps key on the content and log it as an input."""
    for name, param in inspect.signature(pipe.fn).parameters.items():
        annotation = param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
        if annotation.split(".")[-1] == "DatasetVersion" and isinstance(arguments.get(name), str):
            arguments[name] = client.data.get(arguments[name])
    return arguments


_CURRENT: ContextVar[_Execution | None] = ContextVar("steward_pipeline", default=None)


def run_pipeline(
    pipe: Pipeline[..., Any],
    client: Client,
    params: Mapping[str, object] | None = None,
    *,
    executor: str = "local",
    scheduler: str | None = None,
) -> PipelineResult:
    """Run ``pipe``: one run for the pipeline, one per step (linked to it by
    ``mlflow.parentRunId``); a step whose key matches a finished run reuses its output.

    Args:
        pipe: a function marked with :func:`pipeline`.
        client: where runs, outputs and lineage are recorded (embedded or a server).
        params: the pipeline function's keyword arguments.
        executor: ``local`` calls each step as the pipeline function reaches it (in this
            process, or a subprocess for an isolated step); ``dask`` builds the graph of
            steps first and runs independent ones in parallel on a Dask cluster.
        scheduler: with ``dask``, the scheduler's address, or ``local`` for a LocalCluster.

    Returns:
        The pipeline's run id, each step's report and the function's return value.

    Raises:
        CheckFailedError: a step failed after its retries (raised, crashed or timed out); its
            error, name and attempts are in the message, the steps before it keep their
            outputs (a re-run starts from the failed step).
        InvalidInputError: a parameter the pipeline function does not take, an unknown executor.
    """
    if executor not in EXECUTORS:
        raise InvalidInputError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor[:40]!r}", field="executor")
    if executor == "dask" and not scheduler:
        raise InvalidInputError("the dask executor needs --scheduler ADDRESS (or local)", field="scheduler")
    values = dict(params or {})
    try:
        bound = inspect.signature(pipe.fn).bind(**values)
    except TypeError as exc:
        raise InvalidInputError(f"pipeline {pipe.name}: {exc}", field="param") from exc
    bound.apply_defaults()
    arguments = _resolve_datasets(pipe, client, dict(bound.arguments))
    result = PipelineResult(pipe.name, "", "running")
    with client.start_run(pipe.name, name=pipe.name, params=values, tags={"steward.pipeline": pipe.name}) as parent:
        result.run_id = parent.run_id
        execution: _Execution
        if executor == "dask":
            from ._dask import DaskExecution

            execution = DaskExecution(client, pipe.name, parent.run_id, result, scheduler or "local")
        else:
            execution = _Execution(client, pipe.name, parent.run_id, result)
        token = _CURRENT.set(execution)
        try:
            result.output = execution.complete(pipe.fn(**arguments))
        except _StepFailed as failed:
            result.status = "failed"
            parent.end(RunStatus.FAILED, failure=f"step {failed.step} failed: {failed.message}")
            raise CheckFailedError(f"pipeline {pipe.name}: step {failed.step} failed: {failed.message}") from failed.exc
        finally:
            _CURRENT.reset(token)
            execution.close()
    result.status = "finished"
    return result
