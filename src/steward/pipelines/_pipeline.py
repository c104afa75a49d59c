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

from ._keys import code_hash, step_key, value_hash

if TYPE_CHECKING:
    from steward.sdk import Client

__all__ = ["Pipeline", "PipelineResult", "Step", "StepReport", "pipeline", "run_pipeline", "step"]

P = ParamSpec("P")
R = TypeVar("R")
OUTPUT = "outputs/output.pkl"
KEY_TAG = "steward.cache_key"
PARENT_TAG = "mlflow.parentRunId"  # MLflow's spelling: its UI nests the step runs under the pipeline's


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

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "status": self.status, "run_id": self.run_id, "cache_key": self.cache_key,
            "seconds": round(self.seconds, 3), "cached_from": self.cached_from, "error": self.error,
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
    """A function marked with :func:`step`."""

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


def step(fn: Callable[P, R] | None = None, *, name: str | None = None) -> Any:  # Any: a Step, or a decorator making one
    """Mark a function as a pipeline step (cached, recorded as a run when a pipeline runs it).

    Example:
        >>> @steward.step  # doctest: +SKIP
        ... def train(data, c: float): ...
    """
    def wrap(f: Callable[P, R]) -> Step[P, R]:
        return Step(f, _check_name(name or f.__name__.replace("_", "-").lower()))

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


class _Execution:
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

    def run_step(self, st: Step[Any, Any], args: tuple[object, ...], kwargs: Mapping[str, object]) -> Any:  # Any: the step's output
        bound = inspect.signature(st.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        key = step_key(st.name, code_hash(st.fn), {k: value_hash(v) for k, v in arguments.items()})
        tags: dict[str, object] = {PARENT_TAG: self.parent, "steward.pipeline": self.result.name, "steward.step": st.name}
        for arg, value in arguments.items():
            upstream = self.produced.get(id(value))
            if upstream is not None and upstream[0] is value:
                tags[f"steward.input.{arg}"] = f"runs:/{upstream[1]}/{OUTPUT}"
        params = {k: v for k, v in arguments.items() if isinstance(v, (str, int, float, bool)) and not isinstance(v, type)}
        datasets = [(k, v) for k, v in arguments.items() if isinstance(getattr(v, "content_hash", None), str)]
        started = time.monotonic()
        hit = self._cached_run(key)
        if hit is not None:
            output = pickle.loads(self.client.read_artifact(hit, OUTPUT))  # our own store wrote it (a trusted store is assumed)
            with self.client.start_run(self.experiment, name=st.name, params=params, tags={**tags, "steward.cached_from": hit}) as run:
                for _, ds in datasets:
                    run.log_input(ds)
            self.result.steps.append(StepReport(st.name, "cached", run.run_id, key, time.monotonic() - started, cached_from=hit))
            self.produced[id(output)] = (output, run.run_id)
            return output
        run = self.client.start_run(self.experiment, name=st.name, params=params, tags=tags)
        try:
            for _, ds in datasets:
                run.log_input(ds)
            output = st.fn(*bound.args, **bound.kwargs)
            self.client.backend.log_artifact_bytes(run.run_id, pickle.dumps(output, protocol=5), OUTPUT)
            run.set_tag(KEY_TAG, key)  # last: a step that failed half-way is never a cache hit
        except Exception as exc:
            run.end(RunStatus.FAILED, failure=f"{type(exc).__name__}: {exc}")
            self.result.steps.append(StepReport(st.name, "failed", run.run_id, key, time.monotonic() - started, error=f"{type(exc).__name__}: {exc}"))
            raise _StepFailed(st.name, exc) from exc
        run.end(RunStatus.FINISHED)
        self.result.steps.append(StepReport(st.name, "ran", run.run_id, key, time.monotonic() - started))
        self.produced[id(output)] = (output, run.run_id)
        return output


class _StepFailed(Exception):
    def __init__(self, name: str, exc: BaseException) -> None:
        super().__init__(name)
        self.step = name
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


def run_pipeline(pipe: Pipeline[..., Any], client: Client, params: Mapping[str, object] | None = None) -> PipelineResult:
    """Run ``pipe`` in this process: one run for the pipeline, one per step (linked to it by
    ``mlflow.parentRunId``); a step whose key matches a finished run reuses its output.

    Args:
        pipe: a function marked with :func:`pipeline`.
        client: where runs, outputs and lineage are recorded (embedded or a server).
        params: the pipeline function's keyword arguments.

    Returns:
        The pipeline's run id, each step's report and the function's return value.

    Raises:
        CheckFailedError: a step raised; its error is in the message, the steps before it
            keep their outputs (a re-run starts from the failed step).
        InvalidInputError: a parameter the pipeline function does not take.
    """
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
        token = _CURRENT.set(_Execution(client, pipe.name, parent.run_id, result))
        try:
            result.output = pipe.fn(**arguments)
        except _StepFailed as failed:
            result.status = "failed"
            parent.end(RunStatus.FAILED, failure=f"step {failed.step} failed: {failed.exc}")
            raise CheckFailedError(f"pipeline {pipe.name}: step {failed.step} failed: {type(failed.exc).__name__}: {failed.exc}") from failed.exc
        finally:
            _CURRENT.reset(token)
    result.status = "finished"
    return result
