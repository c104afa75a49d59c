"""The Dask executor: the pipeline function is called once to build the graph of steps (a
step's call returns a placeholder, and a placeholder passed to another step is an edge), then
every step whose inputs are ready is keyed, looked up in the cache, and submitted to the
cluster, so independent steps run in parallel.

Runs, cache keys, lineage and outputs are recorded here, in the driver, by the same code as
the local executor (:class:`~._pipeline._Execution`), so the two leave the same records and
share one cache. Workers run :func:`~._isolate.call_step` (isolation, time limits and retries
work alike); the user's step functions travel by value (cloudpickle), so workers need only
Steward and the libraries the steps import.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from steward._local_cluster import local_cluster
from steward.errors import InvalidInputError

from ._isolate import Outcome, StepOptions, call_step, dumps, register_by_value
from ._pipeline import PipelineResult, Step, _Call, _Execution, _StepFailed

if TYPE_CHECKING:
    from steward.sdk import Client
    from steward.sdk._run import ActiveRun

__all__ = ["WORKERS_TIMEOUT_S", "DaskExecution"]

WORKERS_TIMEOUT_S = 120.0

_MISUSE = (
    "with --executor dask, the pipeline function only wires steps together: a step's output "
    "can be passed to other steps or returned, not looked at ({what} of step {name}'s output)"
)


class _Pending:
    """What a step call returns while the graph is built."""

    __slots__ = ("index", "name")

    def __init__(self, index: int, name: str) -> None:
        self.index = index
        self.name = name

    def _refuse(self, what: str) -> InvalidInputError:
        return InvalidInputError(_MISUSE.format(what=what, name=self.name), field="executor")

    def __bool__(self) -> bool:
        raise self._refuse("truth value")

    def __iter__(self) -> Any:  # Any: never returns
        raise self._refuse("iteration")

    def __getitem__(self, item: object) -> Any:  # Any: never returns
        raise self._refuse("an item")

    def __len__(self) -> int:
        raise self._refuse("the length")

    def __repr__(self) -> str:
        return f"<output of step {self.name}, not yet run>"


def _pending_in(value: object) -> set[int]:
    if isinstance(value, _Pending):
        return {value.index}
    if isinstance(value, (list, tuple, set, frozenset)):
        return set().union(*(_pending_in(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_pending_in(v) for v in value.values())) if value else set()
    return set()


def _substitute(value: Any, done: Mapping[int, Any]) -> Any:  # Any: the value with outputs in place of placeholders
    if isinstance(value, _Pending):
        return done[value.index]
    if isinstance(value, list):
        return [_substitute(v, done) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_substitute(v, done) for v in value)
    if isinstance(value, dict):
        return {k: _substitute(v, done) for k, v in value.items()}
    return value


def _remote(call: bytes, options: StepOptions, label: str) -> Outcome:
    """Runs on a worker: the step with its retries; the exception stays there (its text travels).

    ``call`` is the function and its arguments pickled by the driver with cloudpickle (Dask
    would try plain pickle first, which sends a module of the user's by reference, and a
    worker that cannot import it loses its connection instead of failing the task).
    """
    import cloudpickle  # type: ignore[import-untyped]

    fn, args, kwargs = cloudpickle.loads(call)
    return dataclasses.replace(call_step(fn, args, kwargs, options, label), exception=None)


class DaskExecution(_Execution):
    """The graph of a pipeline's steps, run on a Dask distributed cluster.

    Raises:
        InvalidInputError: Dask is not installed, or the scheduler cannot be reached.
    """

    def __init__(self, client: Client, experiment: str, parent_run_id: str, result: PipelineResult, scheduler: str) -> None:
        super().__init__(client, experiment, parent_run_id, result)
        try:
            from dask.distributed import Client as DaskClient
        except ImportError:
            raise InvalidInputError("--executor dask needs Dask: pip install 'steward[dask]'", field="executor") from None
        self._cluster = (
            local_cluster()
            if scheduler == "local"
            else None
        )
        try:
            self._dask = DaskClient(self._cluster if self._cluster is not None else scheduler, timeout="10s", set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise InvalidInputError(f"cannot reach the Dask scheduler {scheduler[:200]!r}: {str(exc)[:200]}", field="scheduler") from exc
        try:  # a scheduler without workers would leave every step waiting forever
            self._dask.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InvalidInputError(
                f"the Dask scheduler {scheduler[:200]!r} has no workers after {WORKERS_TIMEOUT_S:g}s", field="scheduler"
            ) from exc
        self._nodes: list[tuple[Step[Any, Any], tuple[object, ...], dict[str, object], set[int]]] = []

    def run_step(self, st: Step[Any, Any], args: tuple[object, ...], kwargs: Mapping[str, object]) -> Any:  # Any: a placeholder
        deps = _pending_in(args) | _pending_in(dict(kwargs))
        self._nodes.append((st, tuple(args), dict(kwargs), deps))
        return _Pending(len(self._nodes) - 1, st.name)

    def _submit(self, index: int, done: dict[int, Any]) -> tuple[Any, _Call, ActiveRun, float] | None:  # Any: a Future
        st, args, kwargs, _ = self._nodes[index]
        call = self.prepare(st, _substitute(args, done), _substitute(kwargs, done))
        hit, output = self.reuse(call)
        if hit:
            done[index] = output
            return None
        run, started = self.start(call)
        register_by_value(st.fn)
        payload = dumps((st.fn, call.args, call.kwargs))
        future = self._dask.submit(_remote, payload, st.options, st.name, pure=False, key=f"step-{st.name}-{uuid.uuid4().hex}")
        return future, call, run, started

    def complete(self, output: Any) -> Any:  # Any: what the pipeline function returned, placeholders filled in
        """Run the graph: ready steps are submitted as soon as their inputs exist; after a
        failure nothing new starts, the steps already running finish (their outputs are
        cached), then the failure is raised."""
        from dask.distributed import as_completed

        arrivals = as_completed(loop=self._dask.loop)  # type: ignore[no-untyped-call]
        done: dict[int, Any] = {}
        started: set[int] = set()
        running: dict[Any, tuple[int, _Call, ActiveRun, float]] = {}  # Any: a Future
        failure: _StepFailed | None = None
        while True:
            ready = [i for i, node in enumerate(self._nodes) if i not in started and node[3] <= done.keys()]
            while failure is None and ready:
                for index in ready:
                    started.add(index)
                    submitted = self._submit(index, done)
                    if submitted is not None:
                        running[submitted[0]] = (index, *submitted[1:])
                        arrivals.add(submitted[0])  # type: ignore[no-untyped-call]
                ready = [i for i, node in enumerate(self._nodes) if i not in started and node[3] <= done.keys()]
            if not running:
                break
            for future in (next(arrivals),):  # one at a time: what it unblocks is submitted at once
                index, call, run, began = running.pop(future)
                try:
                    outcome: Outcome = future.result()
                except Exception as exc:  # the worker died or the task was lost  # noqa: BLE001 - a lost worker or task fails the step
                    outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}", 1)
                try:
                    done[index] = self.finish(call, run, began, outcome)
                except _StepFailed as failed:
                    failure = failure or failed
        if failure is not None:
            raise failure
        return _substitute(output, done)

    def close(self) -> None:
        self._dask.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()
