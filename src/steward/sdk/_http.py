"""The tracking backend over a Steward server's REST API.

One keep-alive connection (an ``httpx.Client``) carries every request; bodies are encoded
and decoded with orjson. httpx is imported when the first backend is built, so that the
embedded SDK and CLI never pay for it.

A run started through :meth:`HttpBackend.create_run` with ``deferred=True`` (what
``Client.start_run`` does) is created on the server with the first request that needs it:
its first flush of metrics, its end, any other request of this backend, or the background
flusher once it is ``flush_interval`` old. Small artifacts logged meanwhile (up to
``INLINE_ARTIFACT_BYTES`` in all) are held for that request, their paths checked as the
server checks them. A short run is therefore one ``POST /runs/batch`` with its params, tags,
captured files, artifacts, metrics and end (``docs/tracking.md``).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from steward import errors
from steward.core import AuditEntry, Experiment, Metric, Run, RunInput, RunStatus
from steward.core.artifact_paths import clean_artifact_path
from steward.core.codec import experiment_from_dict, float_out, metric_from_dict, run_from_dict
from steward.core.limits import MAX_BATCH_METRICS
from steward.tracking import ArtifactInfo, RunPage

if TYPE_CHECKING:
    import httpx

# Artifacts up to this size ride in the run's batch request (base64 in JSON); bigger ones
# are uploaded raw with PUT after the run exists.
INLINE_ARTIFACT_BYTES = 4 * 1024 * 1024

_BY_CODE: dict[str, type[errors.StewardError]] = {
    cls.code: cls
    for cls in (
        errors.InvalidInputError,
        errors.NotFoundError,
        errors.PermissionDeniedError,
        errors.AuthenticationError,
        errors.RateLimitedError,
        errors.ConflictError,
        errors.AlreadyExistsError,
        errors.StorageError,
        errors.IntegrityError,
    )
}


# Request-level refusals that are not in the error tree's codes but are the caller's fault.
_BY_CODE.update({"BAD_REQUEST": errors.InvalidInputError, "PAYLOAD_TOO_LARGE": errors.InvalidInputError})
_POSITION = re.compile(r" at position (\d+)$")


def _error_from(resp: httpx.Response) -> errors.StewardError:
    """Rebuild the error tree's exception from the one JSON error shape."""
    try:
        err = resp.json()["error"]
        code, message, field = str(err["code"]), str(err["message"]), err.get("field")
    except (ValueError, KeyError, TypeError):
        return errors.StewardError(f"server answered {resp.status_code}")
    if code == errors.FilterSyntaxError.code:
        # the same class as embedded, so `except FilterSyntaxError` works either way
        found = _POSITION.search(message)
        exc = errors.FilterSyntaxError(_POSITION.sub("", message), position=int(found.group(1)) if found else 0, field=field)
        exc.message = message
        exc.args = (message,)
        return exc
    return _BY_CODE.get(code, errors.StewardError)(message, field=field)


def _transport_error(exc: httpx.TransportError, base_url: str, method: str, url: str) -> errors.StorageError:
    """A StorageError (exit 6) naming the server and what went wrong on the way to it.

    A request cut off mid-way is either applied whole or not at all (each is one
    transaction on the server), so the message tells the user to check before retrying a
    write, never that something was half-written.
    """
    import httpx

    server = base_url.rstrip("/").removesuffix("/api/v1")
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return errors.StorageError(f"Steward server unreachable at {server}: cannot connect ({_reason(exc)})")
    if isinstance(exc, httpx.TimeoutException):
        return errors.StorageError(
            f"Steward server at {server} did not answer {method} {url} in time; "
            + ("nothing was changed" if method in ("GET", "HEAD") else "check whether it was applied before retrying")
        )
    what = "nothing was changed" if method in ("GET", "HEAD") else "it was applied whole or not at all: check before retrying"
    return errors.StorageError(f"Steward server at {server} went away during {method} {url} ({_reason(exc)}); {what}")


def _reason(exc: httpx.TransportError) -> str:
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def _columns(metrics: Sequence[Metric]) -> dict[str, list[Any]]:  # Any: JSON values
    # columnar: a third of the bytes of one object per point, and faster to parse
    return {
        "key": [m.key for m in metrics],
        "value": [float_out(m.value) for m in metrics],
        "step": [m.step for m in metrics],
        "timestamp": [m.timestamp for m in metrics],
    }


def _inline(path: str, data: bytes) -> dict[str, str]:
    return {"path": path, "data": base64.b64encode(data).decode("ascii")}


def _artifact_info(d: Mapping[str, Any]) -> ArtifactInfo:  # Any: decoded JSON
    return ArtifactInfo(d["path"], d["digest"], d["size"], d["created_at"])


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class HttpBackend:
    """Talks to ``<base_url>/api/v1``; raises the same errors as the embedded backend.

    Args:
        base_url: e.g. ``http://127.0.0.1:5000``.
        token: API token sent as ``Authorization: Bearer``.
        user: who is acting, sent as ``X-Steward-User`` (recorded as the run's user and in
            the audit trail until tokens identify callers); default the OS user, as embedded.
        transport: a synchronous httpx transport (tests may inject one).
        timeout: seconds per request.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["X-Steward-User"] = user or _os_user()
        self.user = headers["X-Steward-User"]
        self._transport_errors = httpx.TransportError
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", headers=headers, transport=transport, timeout=timeout)
        # run id -> (monotonic time it was started, its creation: a "create" of POST /runs/batch)
        self._pending: dict[str, tuple[float, dict[str, Any]]] = {}
        # held while a deferred creation is on its way, so that no request about that run
        # (from another thread: the flusher, or the user's) can overtake it
        self._pending_lock = threading.RLock()

    def close(self) -> None:
        try:
            self.settle_runs()
        finally:
            self._http.close()

    def _call(self, method: str, url: str, *, body: Any = None, params: Mapping[str, Any] | None = None, content: bytes | None = None, settle: bool = True) -> Any:  # Any: JSON
        if settle and self._pending:
            self.settle_runs()  # a request may name a run that exists only here so far
        try:
            if body is not None:
                resp = self._http.request(
                    method, url, content=orjson.dumps(body), params=params, headers={"Content-Type": "application/json"}
                )
            else:
                resp = self._http.request(method, url, params=params, content=content)
        except self._transport_errors as exc:
            raise _transport_error(exc, str(self._http.base_url), method, url) from exc
        if resp.status_code >= 400:
            raise _error_from(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        if resp.headers.get("content-type", "").startswith("application/json"):
            return orjson.loads(resp.content)
        return resp.content

    # -- deferred creation -----------------------------------------------------------------

    @contextmanager
    def _creation_of(self, run_id: str) -> Iterator[dict[str, Any] | None]:
        """The deferred creation of ``run_id`` (None when the server has the run), held
        until the request that carries it is answered; forgotten once the server answered
        (a refused creation is not sent again: the run does not exist)."""
        with self._pending_lock:
            found = self._pending.get(run_id)
            try:
                yield None if found is None else found[1]
            except self._transport_errors:
                raise  # never reached the server: it goes with the next request about the run
            except errors.StorageError as exc:
                if isinstance(exc.__cause__, self._transport_errors):
                    raise
                self._pending.pop(run_id, None)
                raise
            except BaseException:
                self._pending.pop(run_id, None)
                raise
            self._pending.pop(run_id, None)

    def _write(self, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /runs/batch`` for ``run_id``, with its deferred creation when it has one."""
        with self._creation_of(run_id) as create:
            if create is None and not body:
                return {}  # created meanwhile by another thread's request
            if create is not None:
                held = create.get("artifacts")
                body = {**create, **body}
                if held and "artifacts" in body and body["artifacts"] is not held:
                    body["artifacts"] = held + body["artifacts"]  # files held back, then this request's
            answer: dict[str, Any] = self._call("POST", "/runs/batch", body={"run_id": run_id, **body}, settle=False)
            return answer

    def deferred_since(self, run_id: str) -> float | None:
        """When (``time.monotonic()``) ``run_id`` was started, while its creation is deferred."""
        found = self._pending.get(run_id)
        return None if found is None else found[0]

    def settle_runs(self, *, older_than: float | None = None) -> None:
        """Create on the server every deferred run (only those started ``older_than``
        seconds ago or more, when given: the background flusher's call)."""
        now = time.monotonic()
        for run_id, (started, _create) in list(self._pending.items()):
            if older_than is None or now - started >= older_than:
                self._write(run_id, {})

    # -- experiments ---------------------------------------------------------------------

    def create_experiment(
        self, name: str, tags: Mapping[str, object] | None = None, *, project: str | None = None
    ) -> Experiment:
        body: dict[str, object] = {"name": name, "tags": {k: str(v) for k, v in (tags or {}).items()}}
        if project:
            body["project"] = project
        return experiment_from_dict(self._call("POST", "/experiments", body=body))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_dict(self._call("GET", f"/experiments/{quote(str(experiment_id), safe='')}"))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self._call("GET", "/experiments", params={"name": name, "include_deleted": "true"})["experiments"]
        return experiment_from_dict(found[0]) if found else None

    def get_or_create_experiment(self, name: str, *, project: str | None = None) -> Experiment:
        found = self.get_experiment_by_name(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name, project=project)
        except errors.AlreadyExistsError:
            again = self.get_experiment_by_name(name)
            if again is None:
                raise
            return again

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        data = self._call("GET", "/experiments", params={"include_deleted": str(include_deleted).lower()})
        return [experiment_from_dict(e) for e in data["experiments"]]

    def delete_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_dict(self._call("DELETE", f"/experiments/{quote(str(experiment_id), safe='')}"))

    # -- runs ----------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        start_time: int | None = None,
        user: str | None = None,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
        deferred: bool = False,
    ) -> Run:
        """Create a run (``artifacts`` are recorded with it, as embedded); with ``deferred``,
        only here for now: it reaches the server with the first request that needs it (see
        the module's docstring), and the run returned is the one the server will store."""
        create: dict[str, Any] = {
            "params": {k: str(v) for k, v in (params or {}).items()},
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "artifacts": [_inline(path, data) for path, data in (artifacts or {}).items()],
        }
        if name is not None:
            create["name"] = name
        rid = run_id or uuid.uuid4().hex
        started = start_time if start_time is not None else int(time.time() * 1000)
        create["start_time"] = started
        batch = {"experiment_id": experiment_id, "create": create}
        if not deferred:
            return run_from_dict(self._call("POST", "/runs/batch", body={"run_id": rid, **batch})["run"])
        with self._pending_lock:
            self._pending[rid] = (time.monotonic(), batch)
        return Run(
            rid, str(experiment_id), name or f"run-{rid[:8]}", RunStatus.RUNNING, started, user=self.user,
            params=dict(create["params"]), tags=dict(create["tags"]),
        )

    def get_run(self, run_id: str) -> Run:
        return run_from_dict(self._call("GET", f"/runs/{quote(run_id, safe='')}"))

    def get_run_failure(self, run_id: str) -> str | None:
        data = self._call("GET", f"/runs/{quote(run_id, safe='')}/failure")
        return data.get("failure") if data else None

    def end_run(
        self,
        run_id: str,
        status: RunStatus = RunStatus.FINISHED,
        *,
        end_time: int | None = None,
        failure: str | None = None,
        metrics: Sequence[Metric] = (),
    ) -> Run:
        """End the run; its last ``metrics`` (and its creation, if deferred) in the same request."""
        if len(metrics) > MAX_BATCH_METRICS:
            self.log_batch(run_id, metrics=metrics[:-MAX_BATCH_METRICS], validated=True)
            metrics = metrics[-MAX_BATCH_METRICS:]
        end: dict[str, Any] = {"status": status.value}
        if end_time is not None:
            end["end_time"] = end_time
        if failure is not None:
            end["failure"] = failure
        return run_from_dict(self._write(run_id, {"metrics": _columns(metrics), "end": end})["run"])

    def update_run(self, run_id: str, *, status: RunStatus | None = None, end_time: int | None = None, name: str | None = None, note: str | None = None) -> Run:
        body: dict[str, Any] = {}
        for key, value in (("status", status.value if status else None), ("end_time", end_time), ("name", name), ("note", note)):
            if value is not None:
                body[key] = value
        return run_from_dict(self._call("PATCH", f"/runs/{quote(run_id, safe='')}", body=body))

    def delete_run(self, run_id: str) -> Run:
        return run_from_dict(self._call("DELETE", f"/runs/{quote(run_id, safe='')}"))

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        validated: bool = False,
    ) -> None:
        if len(metrics) > MAX_BATCH_METRICS:
            # the server takes at most MAX_BATCH_METRICS points a request; a flush that
            # buffered more (a tight logging loop) goes in several requests
            self.log_batch(run_id, metrics=metrics[:MAX_BATCH_METRICS], params=params, tags=tags, validated=validated)
            self.log_batch(run_id, metrics=metrics[MAX_BATCH_METRICS:], validated=validated)
            return
        body: dict[str, Any] = {
            "metrics": _columns(metrics),
            "params": {k: str(v) for k, v in (params or {}).items()},
            "tags": {k: str(v) for k, v in (tags or {}).items()},
        }
        if run_id in self._pending:
            self._write(run_id, body)  # the deferred creation and these, in one request
            return
        self._call("POST", f"/runs/{quote(run_id, safe='')}/batch", body=body)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self._call("POST", f"/runs/{quote(run_id, safe='')}/inputs", body={"inputs": [{"dataset": i.dataset, "role": i.role} for i in inputs]})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        data = self._call("GET", f"/runs/{quote(run_id, safe='')}/metric-history", params={"key": key})
        return [metric_from_dict(m) for m in data["metrics"]]

    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        *,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        body: dict[str, Any] = {
            "experiments": [experiments] if isinstance(experiments, str) else (list(experiments) if experiments is not None else None),
            "filter": filter,
            "order_by": list(order_by or []),
            "max_results": max_results,
            "page_token": page_token,
            "include_deleted": include_deleted,
        }
        data = self._call("POST", "/runs/search", body=body)
        return RunPage([run_from_dict(r) for r in data["runs"]], data.get("next_page_token"))

    # -- artifacts -----------------------------------------------------------------------

    def log_artifact_file(self, run_id: str, local_path: str, path: str) -> ArtifactInfo:
        with open(local_path, "rb") as f:
            return self.log_artifact_bytes(run_id, f.read(), path)

    def log_artifact_bytes(self, run_id: str, data: bytes, path: str) -> ArtifactInfo:
        if run_id in self._pending and len(data) <= INLINE_ARTIFACT_BYTES:
            logical = clean_artifact_path(path)
            if self._holds(run_id, logical):
                # logged again: the held file is stored first, so that this one is audited
                # as an overwrite with both digests (below, as on any existing run)
                self._write(run_id, {})
            else:
                held = self._hold(run_id, data, logical)
                if held is not None:
                    return held
                # it does not fit: the deferred creation, the files held and this one, in one request
                infos = self._write(run_id, {"artifacts": [_inline(logical, data)]}).get("artifacts") or []
                for a in infos:
                    if a["path"] == logical:
                        return _artifact_info(a)
        # "/" is escaped too: httpx would otherwise resolve ".." segments before the server
        # could refuse them, and "a/../../failure" would reach another route
        d = self._call("PUT", f"/runs/{quote(run_id, safe='')}/artifacts/{quote(path, safe='')}", content=data)
        return _artifact_info(d)

    def _holds(self, run_id: str, logical: str) -> bool:
        with self._pending_lock:
            found = self._pending.get(run_id)
            return found is not None and any(a["path"] == logical for a in found[1].get("artifacts", ()))

    def _hold(self, run_id: str, data: bytes, logical: str) -> ArtifactInfo | None:
        """Hold a small file (at a path not held yet) back for ``run_id``'s deferred creation:
        the request that creates the run carries it, audited as ``runs.log_artifact`` as any
        other. None when the run is no longer deferred or the files held would come to more
        than ``INLINE_ARTIFACT_BYTES``. The answer is what the server will store (its
        ``created_at`` is this machine's clock)."""
        with self._pending_lock:
            found = self._pending.get(run_id)
            if found is None:
                return None
            held: list[dict[str, str]] = found[1].setdefault("artifacts", [])
            if sum(len(a["data"]) for a in held) * 3 // 4 + len(data) > INLINE_ARTIFACT_BYTES:
                return None
            held.append(_inline(logical, data))
        return ArtifactInfo(logical, hashlib.sha256(data).hexdigest(), len(data), int(time.time() * 1000))

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        data = self._call("GET", f"/runs/{quote(run_id, safe='')}/artifacts", params={"prefix": prefix} if prefix else None)
        return [_artifact_info(a) for a in data["artifacts"]]

    def read_artifact(self, run_id: str, path: str) -> bytes:
        data = self._call("GET", f"/runs/{quote(run_id, safe='')}/artifacts/{quote(path, safe='')}")
        return data if isinstance(data, bytes) else json.dumps(data).encode()

    # -- audit ---------------------------------------------------------------------------

    def list_audit(self, *, target: str | None = None, since: int | None = None, max_results: int = 1000) -> list[AuditEntry]:
        """Audit trail entries (``GET /api/v1/audit``), oldest first; ``target`` is a prefix."""
        params: dict[str, Any] = {"max_results": max_results}
        if target is not None:
            params["target"] = target
        if since is not None:
            params["since"] = since
        data = self._call("GET", "/audit", params=params)
        return [
            AuditEntry(int(e["entry_id"]), int(e["timestamp"]), e["actor"], e["action"], e["target"], dict(e.get("details") or {}))
            for e in data["entries"]
        ]
