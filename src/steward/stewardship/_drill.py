"""A rollback drill: rehearse a deployment's rollback while it serves, and measure it.

The drill switches the deployment to its ``previous`` version (the one a rollback would
restore) and back, each as an ordinary audited blue-green switch. With the URL of a
``steward serve --deployment`` process, requests are sent throughout; each switch is timed
until the process answers from the new version (its ``x-steward-model-version`` header),
and every failed request is counted. The deployment is always switched back, also when the
drill fails half-way. The outcome is stored and audited on the deployment, so the timeline
of each model it serves says when its rollback plan was last tested.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from steward.errors import ConflictError, InvalidInputError
from steward.tracking import now_ms

from ._types import Drill

__all__ = ["DrillOps", "run_drill"]

JSON = dict[str, Any]  # Any: JSON values


class DrillOps(Protocol):
    """The deployment operations a drill needs (embedded services or the REST API)."""

    def get(self, name: str) -> JSON:
        """The deployment's document (``Deployment.to_dict()``)."""
        ...

    def switch(self, name: str, model: str, reason: str) -> JSON: ...

    def record(self, drill: Drill) -> Drill: ...


@dataclass
class _Traffic:
    url: str
    payload: object
    requests: int = 0
    failed: int = 0
    versions: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, model:version)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        import httpx  # only a drill with traffic needs it

        with httpx.Client(base_url=self.url, timeout=10.0) as http:
            while not self.stop.is_set():
                try:
                    answer = http.post("/predict", json=self.payload)
                    ok = answer.status_code == 200
                    label = f"{answer.headers.get('x-steward-model', '')}:{answer.headers.get('x-steward-model-version', '')}"
                    if not ok:
                        self._note(f"HTTP {answer.status_code}")
                except httpx.HTTPError as exc:
                    ok, label = False, ""
                    self._note(type(exc).__name__)
                with self.lock:
                    self.requests += 1
                    self.failed += 0 if ok else 1
                    if ok:
                        self.versions.append((time.monotonic(), label))

    def _note(self, error: str) -> None:
        with self.lock:
            if len(self.errors) < 5:
                self.errors.append(error)

    def first_answer_from(self, label: str, since: float) -> float | None:
        with self.lock:
            return next((t for t, v in self.versions if t >= since and v == label), None)


def _primary_and_previous(document: JSON) -> tuple[str, str]:
    variants = {v["name"]: v for v in document["variants"]}
    name = document["name"]
    if document.get("status") == "rolling_out" or "candidate" in variants or "shadow" in variants:
        raise ConflictError(f"deployment {name!r} has a canary, shadow or rollout on; drill it when it serves one version", field="name")
    if "previous" not in variants:
        raise ConflictError(
            f"deployment {name!r} has no previous version to roll back to (a switch or promotion leaves one)", field="name"
        )
    return str(variants["primary"]["model"]), str(variants["previous"]["model"])


def run_drill(
    ops: DrillOps, name: str, *, url: str | None = None, payload: object = None, timeout_s: float = 30.0,
    settle_s: float = 0.5, progress: Callable[[str], None] | None = None,
) -> Drill:
    """Rehearse the rollback of deployment ``name`` and record the outcome.

    Args:
        ops: the deployment operations, acting as the caller.
        url: a ``steward serve --deployment NAME`` process to send traffic to (None: only the
            plan changes are timed).
        payload: the ``/predict`` body sent in a loop (required with ``url``).
        timeout_s: longest wait for the serving process to answer from a switched version.
        settle_s: traffic sent before the first switch and after the last one.

    Returns:
        The stored drill; ``passed`` is False when a request failed or a switch was not seen.

    Raises:
        ConflictError: the deployment has no previous version, or a canary or rollout is on.
        InvalidInputError: a URL without a payload.
    """
    say = progress or (lambda _: None)
    if url is not None and payload is None:
        raise InvalidInputError("a drill with traffic needs a payload to send to /predict", field="payload")
    serving, rehearsed = _primary_and_previous(ops.get(name))
    started = now_ms()
    traffic = _Traffic(url, payload) if url is not None else None
    thread = threading.Thread(target=traffic.run, daemon=True) if traffic is not None else None
    seen = True
    switched = False
    timings: list[int] = []
    try:
        if thread is not None:
            thread.start()
            time.sleep(settle_s)
        for target, label in ((rehearsed, "rollback"), (serving, "restore")):
            say(f"{label}: switching {name} to {target}")
            t0 = time.monotonic()
            ops.switch(name, target, f"rollback drill ({label})")
            switched = target != serving
            if traffic is not None:
                at = None
                while at is None and time.monotonic() - t0 < timeout_s:
                    time.sleep(0.02)
                    at = traffic.first_answer_from(target, t0)
                seen = seen and at is not None
                timings.append(int(((at if at is not None else time.monotonic()) - t0) * 1000))
            else:
                timings.append(int((time.monotonic() - t0) * 1000))
            say(f"{label}: {target} serving after {timings[-1]} ms")
        if thread is not None:
            time.sleep(settle_s)
    finally:
        if switched:  # failed half-way: never leave the deployment on the rehearsed version
            ops.switch(name, serving, "rollback drill (restore after a failure)")
        if traffic is not None and thread is not None:
            traffic.stop.set()
            thread.join(timeout=15)
    requests = traffic.requests if traffic is not None else 0
    failed = traffic.failed if traffic is not None else 0
    drill = Drill(
        name, started, "", serving, rehearsed, timings[0], timings[1], requests, failed, failed == 0 and seen,
    )
    return ops.record(drill)
