"""An active run: buffers metrics in memory and flushes them from a background thread."""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from steward.core import Metric, Run, RunInput, RunStatus, validate_metric
from steward.errors import ConflictError, InvalidInputError, StewardError

from ._backend import TrackingBackend
from ._http import HttpBackend

if TYPE_CHECKING:
    from steward.data import DatasetVersion
    from steward.registry import LoggedModel

# Mirrors steward.data.ROLES (a test keeps them equal); not imported from there because
# steward.data pulls in polars and scipy, which the SDK must not pay for at import.
_INPUT_ROLES = ("train", "validation", "test")

# Runs still open at interpreter exit are flushed and ended by one atexit hook; a
# WeakSet so that a forgotten run object does not stay alive because of it.
_OPEN_RUNS: weakref.WeakSet[ActiveRun] = weakref.WeakSet()


def _close_open_runs() -> None:
    for run in list(_OPEN_RUNS):
        try:
            run.end()
        except StewardError:
            pass


def _fail_open_runs(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An uncaught exception ends the process: its open runs failed (or were killed)."""
    status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
    failure = "".join(traceback.format_exception(exc_type, exc, tb))
    for run in list(_OPEN_RUNS):
        try:
            run.end(status, failure=failure)
        except StewardError:
            pass
    _previous_excepthook(exc_type, exc, tb)


atexit.register(_close_open_runs)
_previous_excepthook = sys.excepthook
_hook_installed = False


def _install_excepthook() -> None:
    # installed when the first run starts, not at import: importing steward changes nothing
    global _hook_installed, _previous_excepthook  # noqa: PLW0603 - the process-wide hook is process-wide state
    if not _hook_installed:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _fail_open_runs
        _hook_installed = True


class Flusher:
    """One background thread per client that flushes the buffers of all its open runs.

    One thread for all runs, rather than one per run, because starting and joining a
    thread per run costs more than the run's own database work when runs are short.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._runs: weakref.WeakSet[ActiveRun] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, run: ActiveRun) -> None:
        with self._lock:
            self._runs.add(run)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                # after a fork the parent's thread does not exist in the child
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="steward-flush", daemon=True)
                self._thread.start()

    def discard(self, run: ActiveRun) -> None:
        with self._lock:
            self._runs.discard(run)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                runs = list(self._runs)
            for run in runs:
                run._background_flush()


class ActiveRun:
    """A running run. Use as a context manager (``with steward.start_run(...) as run:``).

    Metric calls only append to an in-memory buffer; a background thread writes the buffer
    to the store every ``flush_interval`` seconds (at most 1 s) and when it holds
    ``flush_max_points``. The buffer is flushed when the run ends, when the ``with`` block
    raises (the run is then marked failed and the traceback kept) and at interpreter exit.
    """

    def __init__(
        self,
        backend: TrackingBackend,
        run: Run,
        *,
        flush_interval: float = 0.5,
        flush_max_points: int = 50_000,
        flusher: Flusher | None = None,
        project: str | None = None,
    ) -> None:
        self._backend = backend
        self._project = project  # where a model that log_model registers is created
        self.info = run
        self.run_id = run.run_id
        self._buffer: list[Metric] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._max_points = flush_max_points
        self._known_keys: set[str] = set()
        self._next_step: dict[str, int] = {}
        self._ended = False
        self._flusher = flusher or Flusher(flush_interval)
        self._flusher.add(self)
        _OPEN_RUNS.add(self)
        _install_excepthook()

    # -- metrics ------------------------------------------------------------------------

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
        """Buffer one metric point; never waits for the store.

        ``step`` defaults to one past this key's previous step (0 for the first point).

        Raises:
            InvalidInputError: a non-numeric value, a bad key or a non-integer step.
            ConflictError: the run has ended (the point would never be flushed).
        """
        if self._ended:
            raise ConflictError(f"run {self.run_id} has ended; it accepts no more metrics", field="run_id")
        if key not in self._known_keys or type(value) not in (float, int) or (step is not None and type(step) is not int):
            validate_metric(key, value, 0 if step is None else step)
            self._known_keys.add(key)
            if step is not None:
                step = int(step)  # numpy integers pass validation; keep plain ints in the buffer
        if step is None:
            step = self._next_step.get(key, 0)
        self._next_step[key] = step + 1
        point = Metric(key, float(value), step, timestamp if timestamp is not None else time.time_ns() // 1_000_000)
        with self._lock:
            self._buffer.append(point)
            full = len(self._buffer) >= self._max_points
        if full:
            self._flusher.wake()

    def log_metrics(self, values: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        """Buffer several metrics at one step (as many :meth:`log_metric` calls, under one lock)."""
        ts = timestamp if timestamp is not None else int(time.time() * 1000)
        if self._ended or (step is not None and type(step) is not int):
            for key, value in values.items():  # the checks and conversions of log_metric
                self.log_metric(key, value, step, ts)
            return
        # A training loop calls this once per step: one lock, one buffer extension and no
        # call per point halve the Python time of a point (bench/tracking.py's log_metrics).
        known, next_step = self._known_keys, self._next_step
        points: list[Metric] = []
        try:
            for key, value in values.items():
                if key not in known or type(value) not in (float, int):
                    validate_metric(key, value, 0 if step is None else step)
                    known.add(key)
                at = next_step.get(key, 0) if step is None else step
                next_step[key] = at + 1
                points.append(Metric(key, float(value), at, ts))
        finally:
            # the points before an invalid one are kept, as one log_metric call each would
            with self._lock:
                self._buffer += points
                full = len(self._buffer) >= self._max_points
            if full:
                self._flusher.wake()

    def flush(self) -> None:
        """Write buffered metrics now; raises the error of a failed background flush."""
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if batch:
                try:
                    self._backend.log_batch(self.run_id, metrics=batch, validated=True)
                except BaseException:
                    with self._lock:
                        self._buffer[:0] = batch
                    raise

    def _background_flush(self) -> None:
        if isinstance(self._backend, HttpBackend):
            started = self._backend.deferred_since(self.run_id)
            if started is not None and time.monotonic() - started < self._flusher.interval:
                return  # a run not yet created sends its points with its creation, by the next round at the latest
        try:
            self.flush()
            if isinstance(self._backend, HttpBackend):
                # a deferred creation is sent once it is a flush interval old, as metrics are
                with self._flush_lock:
                    self._backend.settle_runs(older_than=self._flusher.interval)
        except StewardError:
            # the points stay buffered and are retried next round; end() raises if it still fails
            pass

    # -- params, tags, notes, inputs ----------------------------------------------------

    def log_param(self, key: str, value: object) -> None:
        self._backend.log_batch(self.run_id, params={key: value})

    def log_params(self, values: Mapping[str, object]) -> None:
        """Log params now (params are immutable: a different value for a key is a conflict)."""
        self._backend.log_batch(self.run_id, params=values)

    def set_tag(self, key: str, value: object) -> None:
        self._backend.log_batch(self.run_id, tags={key: value})

    def set_tags(self, values: Mapping[str, object]) -> None:
        self._backend.log_batch(self.run_id, tags=values)

    def set_note(self, text: str) -> None:
        """Set the run's free-text note (Markdown)."""
        self._backend.update_run(self.run_id, note=text)

    def log_input(self, dataset: str | DatasetVersion, role: str = "train") -> None:
        """Record a dataset version the run used, for lineage.

        Args:
            dataset: a :class:`~steward.data.DatasetVersion` (its ``ref`` is stored) or a
                reference string such as ``datasets:/name/version``.
            role: ``train``, ``validation`` or ``test``.

        Raises:
            InvalidInputError: an unknown role or an empty reference.
        """
        ref = dataset if isinstance(dataset, str) else dataset.ref
        if not ref.strip():
            raise InvalidInputError("dataset reference is empty", field="dataset")
        if role not in _INPUT_ROLES:
            raise InvalidInputError(
                f"role {str(role)[:40]!r} is invalid; use one of {', '.join(_INPUT_ROLES)}", field="role"
            )
        self._backend.log_inputs(self.run_id, [RunInput(ref, role)])

    # -- artifacts ----------------------------------------------------------------------

    def log_artifact(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Store a file, or every file under a folder, as artifacts of this run.

        The file lands at ``artifact_path/<file name>`` (or the file name at the top).
        """
        path = os.fspath(local_path)
        prefix = artifact_path.strip("/") + "/" if artifact_path else ""
        if os.path.isdir(path):
            base = os.path.basename(os.path.normpath(path))
            for folder, _dirs, files in os.walk(path):
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    rel = os.path.relpath(full, path).replace(os.sep, "/")
                    self._backend.log_artifact_file(self.run_id, full, f"{prefix}{base}/{rel}")
        else:
            self._backend.log_artifact_file(self.run_id, path, prefix + os.path.basename(path))

    def log_text(self, text: str, artifact_file: str) -> None:
        self._backend.log_artifact_bytes(self.run_id, text.encode(), artifact_file)

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> None:  # Any: JSON values
        self._backend.log_artifact_bytes(self.run_id, json.dumps(data, indent=2, sort_keys=True).encode(), artifact_file)

    # -- models -------------------------------------------------------------------------

    def log_model(
        self,
        model: object,
        name: str,
        *,
        input_example: Any = None,  # Any: a pandas DataFrame or 2-D numpy array
        trusted: bool = False,
        flavor: str | None = None,
        artifacts: Mapping[str, str] | None = None,
        registered_model_name: str | None = None,
    ) -> LoggedModel:
        """Store ``model`` under ``models/<name>/`` in this run, with its signature (inferred
        from ``input_example``), pinned requirements and a manifest of file hashes.

        Args:
            model: a scikit-learn, XGBoost, LightGBM or ONNX model, or a
                :class:`steward.pyfunc.PythonModel`.
            name: the model's name inside the run (``[a-z0-9][a-z0-9._-]*``).
            input_example: a few input rows; the signature is inferred from them.
            trusted: save scikit-learn models with pickle instead of skops (and need
                ``trusted=True`` again to load them).
            flavor: force a flavor (``"onnx"`` converts a scikit-learn model).
            artifacts: local files a pyfunc model reads in ``load_context``, by name.
            registered_model_name: also register the files as the next version of this model.

        Returns:
            A :class:`~steward.registry.LoggedModel` (``.registered`` holds the new version).

        Raises:
            InvalidInputError: an unknown flavor, or a model that cannot predict on the example.

        Example:
            >>> with client.start_run() as run:  # doctest: +SKIP
            ...     run.log_model(clf, "fraud", input_example=X.head(), registered_model_name="fraud")
        """
        # imported here, not at the top: the registry pulls in pandas, polars and the model
        # libraries, which a training script that only logs metrics must not pay for
        from steward.registry import log_model as _log_model
        from steward.registry import version_from_dict

        logged = _log_model(
            self._backend, self.run_id, model, name=name, input_example=input_example, trusted=trusted, flavor=flavor, artifacts=artifacts
        )
        if registered_model_name is None:
            return logged
        body = {"run_id": self.run_id, "artifact_path": logged.artifact_path, "project": self._project}
        if isinstance(self._backend, HttpBackend):
            path = f"/models/{registered_model_name}/versions"
            version = version_from_dict(self._backend._call("POST", path, body=body))
        else:
            from steward.wiring import (
                registry_for,  # as in Client: the sdk imports adapters only when embedded
            )

            version = registry_for(self._backend).create_version(  # type: ignore[arg-type]
                registered_model_name, self.run_id, artifact_path=logged.artifact_path, project=self._project
            )
        return dataclasses.replace(logged, registered=version)

    # -- lifecycle ----------------------------------------------------------------------

    def end(self, status: RunStatus = RunStatus.FINISHED, failure: str | None = None) -> Run:
        """Flush, stop the background thread and mark the run ended."""
        if self._ended:
            return self.info
        self._ended = True
        _OPEN_RUNS.discard(self)
        self._flusher.discard(self)
        with self._flush_lock:  # waits for a background flush in progress
            with self._lock:
                batch, self._buffer = self._buffer, []
        try:
            # the last points and the status change in one transaction
            self.info = self._backend.end_run(self.run_id, status, failure=failure, metrics=batch)
        except StewardError as exc:
            if not batch:
                raise
            # the points could not be stored: end the run as failed without them, and say so
            failure = (failure or "") + f"\nmetrics could not be flushed: {exc}"
            self.info = self._backend.end_run(self.run_id, RunStatus.FAILED, failure=failure)
            raise
        return self.info

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end(RunStatus.KILLED, failure="".join(traceback.format_exception(exc_type, exc, tb)))
        else:
            self.end(RunStatus.FAILED, failure="".join(traceback.format_exception(exc_type, exc, tb)))
