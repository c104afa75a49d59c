"""Calling one step: in this process or in a subprocess of its own (its own process group, so
a time limit kills everything it started), retried with exponential backoff.

The subprocess gets the function, its arguments and ``sys.path`` pickled with cloudpickle (the
user's own modules by value, so a pipeline file loaded under a made-up module name travels
too) and sends back the output the same way, or the error as text. Dask workers run the same
:func:`call_step`, so the two executors fail, retry and time out alike.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError

__all__ = ["Outcome", "StepOptions", "call_step", "parse_seconds"]

_LIBRARY_PATHS = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


def parse_seconds(value: str | float | None, *, field: str) -> float | None:
    """``"5m"`` -> 300.0; a number is seconds; ``None`` stays ``None``.

    Raises:
        InvalidInputError: not a positive duration (30s, 15m, 1h, 500ms) or number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a duration such as 30s, 5m or 1h", field=field)
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        from steward.core.alerts import parse_duration_ms

        try:
            seconds = parse_duration_ms(value) / 1000
        except ValueError as exc:
            raise InvalidInputError(f"{field}: {exc}", field=field) from exc
    if seconds < 0 or (field.endswith("timeout") and seconds == 0):
        raise InvalidInputError(f"{field} must be positive, got {value!r}", field=field)
    return seconds


@dataclass(frozen=True, slots=True)
class StepOptions:
    """How a step is called: ``isolate`` in a subprocess, ``timeout`` seconds per attempt
    (implies ``isolate``), ``retries`` more attempts after a failure, ``retry_backoff``
    seconds before the first retry (doubling after each)."""

    isolate: bool = False
    timeout: float | None = None
    retries: int = 0
    retry_backoff: float = 0.0

    @classmethod
    def of(
        cls,
        *,
        isolate: bool = False,
        timeout: str | float | None = None,
        retries: int = 0,
        retry_backoff: str | float = 0.0,
        field_prefix: str = "",
    ) -> StepOptions:
        """Options as written on ``@steward.step`` or in ``steward.yaml`` (``field_prefix``
        names the fields in errors: ``train_`` for the retraining's ``train_timeout``).

        Raises:
            InvalidInputError: a bad duration or a negative retry count.
        """
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError(
                f"{field_prefix}retries must be a whole number >= 0, got {retries!r}", field=f"{field_prefix}retries"
            )
        seconds = parse_seconds(timeout, field=f"{field_prefix}timeout")
        backoff = parse_seconds(retry_backoff, field=f"{field_prefix}retry_backoff") or 0.0
        return cls(isolate=bool(isolate) or seconds is not None, timeout=seconds, retries=retries, retry_backoff=backoff)

    @property
    def attempts(self) -> int:
        return self.retries + 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of calling a step with its retries: ``output`` when ``ok``, else ``error``
    (``Type: message``) of the last attempt; ``attempts`` made."""

    ok: bool
    output: Any  # Any: whatever the step returned
    error: str | None
    attempts: int
    exception: BaseException | None = None  # in-process only: the last attempt's, for --debug
    detail: str | None = None  # the last attempt's traceback, stored with the step's run


def _is_user_module(name: str) -> bool:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    return bool(path) and not str(path).startswith(_LIBRARY_PATHS) and name != "steward" and not name.startswith("steward.")


def dumps(value: object) -> bytes:
    """``value`` pickled with cloudpickle (modules registered by value travel whole)."""
    import cloudpickle  # type: ignore[import-untyped]

    data: bytes = cloudpickle.dumps(value, protocol=5)
    return data


def register_by_value(fn: Callable[..., Any]) -> None:  # Any: a step takes and returns anything
    """Pickle ``fn``'s module by value (a pipeline file loaded from a path is not importable
    in another process)."""
    import cloudpickle

    name = getattr(fn, "__module__", None)
    if isinstance(name, str) and name != "__main__" and _is_user_module(name):
        try:
            cloudpickle.register_pickle_by_value(sys.modules[name])
        except ValueError:  # already registered, or a module cloudpickle cannot handle by value
            pass


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _tail(path: Path, lines: int = 1) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(t.strip() for t in text[-lines:])[:300]


def _in_subprocess(
    fn: Callable[..., Any], args: tuple[object, ...], kwargs: Mapping[str, object], timeout: float | None, label: str
) -> tuple[bool, Any, str | None, str | None]:  # Any: the output
    register_by_value(fn)
    with tempfile.TemporaryDirectory(prefix="steward-step-") as folder:
        request, response, log = Path(folder) / "in.pkl", Path(folder) / "out.pkl", Path(folder) / "log.txt"
        (Path(folder) / "path.pkl").write_bytes(pickle.dumps(list(sys.path)))  # first: the call may name modules on it
        request.write_bytes(dumps((fn, tuple(args), dict(kwargs))))
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "steward.pipelines._child", str(request), str(response)],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, start_new_session=True,
            )
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # the step and anything it started
                except ProcessLookupError:
                    pass
                proc.wait()
                return False, None, f"TimeoutError: step {label} exceeded its time limit of {timeout:g}s and was killed", None
        output_log = log.read_text(errors="replace")
        if output_log:
            sys.stderr.write(output_log)
        if response.is_file() and response.stat().st_size:
            status, payload = pickle.loads(response.read_bytes())  # written by our own child just now
            if status == "ok":
                return True, payload, None, None
            message, detail = payload
            return False, None, str(message), detail
        last = _tail(log)
        return False, None, f"StepCrashed: step {label} crashed ({_describe_exit(code)})" + (f": {last}" if last else ""), output_log[-20000:] or None


def call_step(
    fn: Callable[..., Any], args: tuple[object, ...], kwargs: Mapping[str, object], options: StepOptions, label: str
) -> Outcome:  # Any: a step takes and returns anything
    """Call ``fn`` as ``options`` say, retrying failures (an exception, a crash, a timeout);
    never raises for the step's own failure."""
    error: str | None = None
    detail: str | None = None
    last: BaseException | None = None
    for attempt in range(1, options.attempts + 1):
        if attempt > 1 and options.retry_backoff:
            time.sleep(options.retry_backoff * 2 ** (attempt - 2))
        if options.isolate:
            ok, output, error, detail = _in_subprocess(fn, args, kwargs, options.timeout, label)
            if ok:
                return Outcome(True, output, None, attempt)
            continue
        try:
            return Outcome(True, fn(*args, **kwargs), None, attempt)
        except Exception as exc:  # noqa: BLE001 - the step's own error, whatever it is
            error, last, detail = f"{type(exc).__name__}: {exc}", exc, traceback.format_exc()
    return Outcome(False, None, error, options.attempts, last, detail)
