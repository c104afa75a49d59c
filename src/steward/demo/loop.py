"""Demo chapter, the closed loop: the drift alert of the monitoring chapter fires a trigger that
runs the standard lifecycle pipeline (``steward retrain``) on the drifted window joined with its
labels: train, evaluate, gate against the champion on the same data, register the candidate,
canary it on the live deployment, promote or roll back. A webhook to a loopback receiver
records the registry's events; the chapter ends with the model's timeline.

Two halves: :func:`arm_loop` runs before the monitoring chapter (a trigger and a webhook see
only events after their creation), :func:`close_loop` after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
from rich.console import Console
from rich.table import Table

import steward.predictions
from steward import Settings, deployments
from steward.errors import NotFoundError
from steward.stewardship.lifecycle import load_spec, retrain
from steward.wiring import build_services

from ._progress import bars, counting
from .registry import MODEL
from .serving import DEPLOYMENT, REVIEWER, Shift, _serve, _shifted_rows

TRIGGER = "demo-retrain-on-drift"
WEBHOOK = "demo-loop"
ACTOR = "demo-loop"
RULE = "demo-api-drift-share"
SECRET = "demo-loop-webhook-secret-0123456789"  # a demo's secret; a real one comes from a secret store
GATE_POLICY = """\
# the retrained model ships only if it beats the champion on the fresh window
min: {roc_auc: 0.95}
beat_champion: {metric: log_loss, min_delta: 0.0}
"""
# Small numbers keep the chapter short; see the serving chapter for the same policy's long form.
ROLLOUT_POLICY = """\
steps: [25, 100]
min_requests: 20
min_duration: 1s
rollback_min_requests: 20
interval: 1s
bounds: {max_error_rate_ratio: 2.0, max_error_rate_delta: 0.01, max_p99_ratio: 2.0, max_p99_delta_ms: 100}
"""
PROJECT_FILE = f"""\
retrain:
  {MODEL}:
    train: steward.demo.loop:train   # the training step: module:function
    target: label                    # the delayed labels joined to the drifted window
    gate: loop-gate.yaml
    deployment: {DEPLOYMENT}
    rollout: loop-rollout.yaml
    timeout: 60
"""
CONCURRENCY = 4


def train(frame: pd.DataFrame, target: str) -> Any:  # Any: a fitted estimator
    """The training step the lifecycle runs: scaled logistic regression (deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(frame.drop(columns=[target]), frame[target])


@dataclass
class _Receiver:
    """A webhook receiver on a loopback port: every POST recorded, its signature checked."""

    server: ThreadingHTTPServer
    got: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)  # Any: JSON

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _receiver() -> _Receiver:
    received: list[tuple[str, dict[str, Any], bool]] = []  # Any: JSON

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(expected, self.headers.get("X-Steward-Signature", ""))
            received.append((self.headers.get("X-Steward-Event", "?"), json.loads(body or b"{}"), signed))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return _Receiver(server, received)


@dataclass
class Loop:
    """What :func:`arm_loop` set up: the receiver and the files of the retraining."""

    receiver: _Receiver
    project_file: Path
    began_ms: int


def arm_loop(console: Console, settings: Settings) -> Loop:
    """Before the drift: an alert trigger that runs ``steward retrain`` and a webhook."""
    console.rule("[bold]The loop, armed[/bold]: a trigger on the drift alert, a webhook")
    home = Path(settings.resolved_home())
    (home / "loop-gate.yaml").write_text(GATE_POLICY)
    (home / "loop-rollout.yaml").write_text(ROLLOUT_POLICY)
    project_file = home / "steward.yaml"
    project_file.write_text(PROJECT_FILE)
    services = build_services(settings)
    receiver = _receiver()
    try:
        triggers, hooks = services.triggers(ACTOR), services.webhooks(ACTOR)
        for delete, name in ((triggers.delete_trigger, TRIGGER), (hooks.delete_webhook, WEBHOOK)):
            try:
                delete(name)  # a store that ran the demo before
            except NotFoundError:
                pass
        triggers.create_trigger(TRIGGER, "alert", f"retrain:{MODEL}", alert=RULE, project=MODEL, params={"project_file": str(project_file)})
        console.print(f"{project_file}:")
        console.print(PROJECT_FILE.rstrip(), style="dim", highlight=False, markup=False)
        console.print(f"$ steward triggers create {TRIGGER} --kind alert --alert {RULE} --pipeline retrain:{MODEL} --param project_file={project_file}")
        project = services.registry(ACTOR).get_model(MODEL).project
        hooks.create_webhook(WEBHOOK, receiver.url, project=project, events=["*"], secret=SECRET)
        console.print(f"$ steward webhooks create {WEBHOOK} --url {receiver.url} --project {project} --events '*' (HMAC-signed)")
    except BaseException:
        receiver.stop()
        raise
    finally:
        services.close()
    return Loop(receiver, project_file, int(time.time() * 1000))


def _label_window(console: Console, settings: Settings, shift: Shift, data: dict[str, Any]) -> None:  # Any: frames
    """The delayed labels of the drifted window arrive: each logged request gets its truth."""
    x_test: pd.DataFrame = data["x_test"]
    truth = {}
    for row, label in zip(_shifted_rows(x_test.to_dict(orient="records")), data["y_test"].tolist(), strict=True):
        truth[tuple(round(float(row[c]), 6) for c in x_test.columns)] = int(label)
    window = steward.predictions.read(DEPLOYMENT, shift.start_ms, shift.end_ms, as_pandas=False, settings=settings).to_pandas()
    keys = window[[f"input.{c}" for c in x_test.columns]].round(6).itertuples(index=False, name=None)
    labels = [truth.get(tuple(float(v) for v in key)) for key in keys]
    table = pa.table({"request_id": window["request_id"].tolist(), "row": window["row"].astype("int32").tolist(), "label": labels})
    services = build_services(settings)
    try:
        report = services.predictions(ACTOR).ingest_labels(DEPLOYMENT, table, source="demo: the outcomes, a day later")
    finally:
        services.close()
    console.print(f"$ steward predictions label {DEPLOYMENT} --file outcomes.parquet: {report.attached} labels attached to the drifted window")


@contextmanager
def _traffic(url: str, rows: list[dict[str, Any]], advance: Callable[[], None]) -> Iterator[dict[str, int]]:  # Any: JSON values
    """Requests from ``CONCURRENCY`` threads until the block ends; answers counted per version
    (and ``advance`` told of each)."""
    seen: dict[str, int] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def send(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = offset
            while not stop.is_set():
                answer = http.post("/predict", json=[rows[i % len(rows)]])
                key = f"v{answer.headers.get('x-steward-model-version', '?')}" if answer.status_code == 200 else f"error {answer.status_code}"
                with lock:
                    seen[key] = seen.get(key, 0) + 1
                advance()
                i += CONCURRENCY

    threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(CONCURRENCY)]
    for t in threads:
        t.start()
    try:
        yield seen
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)


def _timeline_table(events: list[Any], began_ms: int) -> Table:  # Any: steward.registry TimelineEvent
    table = Table(title=f"steward models timeline {MODEL}: one ordered, audited history (the loop's events in bold)")
    for column in ("#", "time (UTC)", "event", "versions", "by", "evidence"):
        table.add_column(column, justify="right" if column == "#" else "left", overflow="fold")
    for e in events:
        d = e.details
        evidence = next(
            (f"{k} {str(d[k])[:48]}" for k in ("outcome", "passed", "trigger", "data", "reason", "alias", "to_state", "value") if k in d),
            e.target,
        )
        loop = e.timestamp >= began_ms
        table.add_row(
            str(e.entry_id), datetime.fromtimestamp(e.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3],
            f"[bold]{e.kind}[/bold]" if loop else e.kind, ",".join(map(str, e.versions)) or "-", e.actor, evidence,
        )
    return table


def close_loop(console: Console, settings: Settings, loop: Loop, shift: Shift, data: dict[str, Any]) -> None:  # Any: frames
    """The alert's trigger retrains, gates, canaries and promotes or rolls back; then the
    webhook deliveries and the model's timeline."""
    console.rule("[bold]The loop, closed[/bold]: drift alert -> retrain -> gate -> canary -> promote or roll back")
    began = time.perf_counter()
    try:
        _run_loop(console, settings, loop, shift, data)
    finally:
        loop.receiver.stop()
    console.print(f"The loop took {time.perf_counter() - began:.1f} s.")


def _tick(settings: Settings) -> list[Any]:  # Any: steward.triggers TriggerStart
    """``steward triggers tick`` on services of its own (it runs while the server starts)."""
    services = build_services(settings)
    try:
        triggers = services.triggers(ACTOR)
        return triggers.run_due() or [triggers.fire(TRIGGER)]  # no new firing: the rule was already firing on this store
    finally:
        services.close()


def _run_loop(console: Console, settings: Settings, loop: Loop, shift: Shift, data: dict[str, Any]) -> None:  # Any: frames
    _label_window(console, settings, shift, data)
    services = build_services(settings)
    rows = _shifted_rows(data["x_test"].to_dict(orient="records"))  # the traffic goes on as it drifted
    try:
        console.print("$ steward triggers tick   (the server's trigger runner does this on its own)")
        with ThreadPoolExecutor(1) as pool:
            # the retraining runs while the live deployment's server starts: both take seconds
            ticked = pool.submit(_tick, settings)
            with _serve(settings, console) as url:
                with bars(console) as progress:  # the server is ready; the retraining may still run
                    progress.add_task("Retraining on the drifted window (the trigger's run)", total=None, unit="")
                    start = ticked.result()[0]
                console.print(
                    f"Trigger {TRIGGER}: {start.event_key} started retrain:{MODEL} on {start.params.get('data')} "
                    f"(the drifted window, labels joined): {start.status}{f' ({start.error})' if start.error else ''}",
                    soft_wrap=True,
                )
                registry = services.registry(ACTOR)
                version = max(v.version for v in registry.list_versions(MODEL).versions)
                found = registry.get_version(MODEL, version)
                if found.state.value != "candidate":
                    console.print(f"[bold]Loop outcome: {MODEL}:{version} failed its gate[/bold] — {start.error}; the champion keeps serving.", soft_wrap=True)
                    _finish(console, services, loop)
                    return
                if settings.require_approval and not found.approvals:
                    services.registry(REVIEWER).approve(MODEL, version, comment="demo: the gate passed on the fresh window")
                    console.print(f"$ steward models approve {MODEL}:{version}   (as {REVIEWER}: a version needs an approval before live traffic)")
                spec = load_spec(MODEL, loop.project_file, data=str(start.params.get("data")), trigger=f"alert:{RULE}")
                with (
                    counting(console, f"Live traffic while {MODEL}:{version} is canaried", None) as advance,
                    _traffic(url, rows, advance) as seen,
                ):
                    console.print(f"$ steward retrain {MODEL} --resume {version}   (canary of {MODEL}:{version} on {DEPLOYMENT}, live traffic)")
                    result = retrain(services, spec, actor=ACTOR, resume=version, poll_s=0.5, progress=lambda line: console.print(f"  {line}"))
        console.print(f"Answers while the canary ran: {', '.join(f'{k} {n}' for k, n in sorted(seen.items()))}")
        serving = deployments.get(DEPLOYMENT, settings=settings).variant("primary")
        verb = {"promoted": "promoted", "rolled_back": "rolled back"}.get(result.status, result.status)
        console.print(
            f"[bold]Loop outcome: {MODEL}:{version} {verb}[/bold] — {result.reason}; "
            f"{DEPLOYMENT} serves {serving.model if serving else '-'}",
            soft_wrap=True,
        )
        _finish(console, services, loop)
    finally:
        services.close()


def _finish(console: Console, services: Any, loop: Loop) -> None:  # Any: steward.wiring.Services
    hooks = services.webhooks(ACTOR)
    for _ in range(5):
        done = hooks.deliver()
        if not done.pending:
            break
    got = loop.receiver.got
    console.print(
        f"Webhook {WEBHOOK} delivered {len(got)} events to {loop.receiver.url}, "
        f"{sum(signed for _, _, signed in got)} with a valid signature: "
        + ", ".join(f"{event} {(body.get('model') or {}).get('version') or (body.get('deployment') or {}).get('name') or ''}".rstrip() for event, body, _ in got),
        soft_wrap=True,
    )
    events = services.timeline().get_timeline(MODEL).events
    console.print(_timeline_table(events, loop.began_ms))
    console.print(
        f"Look at it: [bold]steward models timeline {MODEL}[/bold] (--json), or [bold]steward server[/bold] and "
        f"http://127.0.0.1:8080/api/v1/models/{MODEL}/timeline"
    )


__all__ = ["Loop", "arm_loop", "close_loop", "train"]
