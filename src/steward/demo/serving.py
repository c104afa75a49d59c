"""Demo chapter, serving: the champion behind a real ``steward serve`` process, live traffic,
and the challenger canaried by a progressive rollout that the controller promotes or rolls
back by the policy; then the split, the metrics and the prediction log.

Everything runs on the loopback interface: one server process with one worker on a free
port, started here and stopped here (also when the chapter fails).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

import steward.predictions
from steward import Settings, deployments
from steward.core.lifecycle import ModelState
from steward.core.rollout import latency_quantile_ms
from steward.core.traffic import LATENCY_BUCKETS_MS
from steward.errors import NotFoundError
from steward.serving import Deployment, HistoryEntry
from steward.wiring import build_services

from ._progress import bars, counting
from .registry import MODEL, Release

DEPLOYMENT = "demo-api"
REVIEWER = "demo-reviewer"  # approves the challenger: in team mode an author may not approve their own version
# Small numbers keep the demo short; a real policy asks for hundreds of requests and minutes per step.
ROLLOUT_POLICY = """\
steps: [5, 50, 100]        # the challenger's share of traffic, step by step
min_requests: 50           # its requests per step before it may advance
min_duration: 2s           # and at least this long per step
rollback_min_requests: 50  # its requests counted before a bound may roll back
interval: 1s               # how often the controller looks
bounds:                    # relative to the champion over the same step
  max_error_rate_ratio: 2.0
  max_error_rate_delta: 0.01
  max_p99_ratio: 2.0        # p99 at most twice the champion's,
  max_p99_delta_ms: 100    # or 100 ms above it (the looser holds): over a few
                           # dozen requests p99 is nearly the slowest one
"""
# The server follows the plan and reports per-variant stats every second, and its
# controller looks every second (defaults 2 s, 5 s and 5 s), so each step takes seconds.
SERVER_SETTINGS = {"STEWARD_ROLLOUT_INTERVAL": "1", "STEWARD_SERVE_PLAN_INTERVAL": "0.5", "STEWARD_SERVE_STATS_INTERVAL": "1"}
WARM_UP_REQUESTS = 300
ROUND_REQUESTS = 60  # sent between two looks at the deployment
CONCURRENCY = 8
ROLLOUT_DEADLINE_S = 60.0
READY_TIMEOUT_S = 60.0
# The last phase of traffic: the same holdout rows with two features scaled, as when an upstream
# system changes a unit; the monitoring chapter should find these two drifted and the rest stable.
SHIFTED_FEATURES = {"mean texture": 1.8, "worst smoothness": 1.6}
# Every holdout row twice, whatever the offset the rollout left the traffic at: a partial pass
# would weigh some rows double and skew the unshifted features too.
SHIFTED_PASSES = 2


@dataclass(frozen=True, slots=True)
class Shift:
    """The chapter's outcome for monitoring: the shifted phase's time window of the log
    (``[start_ms, end_ms)``, epoch ms) and the features scaled in it."""

    start_ms: int
    end_ms: int
    features: tuple[str, ...]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(settings: Settings, console: Console) -> Iterator[str]:
    """A ``steward serve --deployment`` process on a free loopback port (its URL), stopped at exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(settings.resolved_home()) / "demo-serve.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,  # the child is configured like this process, with the same store spelt out
        "STEWARD_HOME": str(settings.resolved_home()),
        "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(),
        **SERVER_SETTINGS,
    }
    command = [sys.executable, "-m", "steward", "serve", "--deployment", DEPLOYMENT, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(log, "wb") as out:
        # a session of its own: Ctrl-C reaches the demo, which then stops the server gracefully
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(process, url, log)
            console.print(f"$ steward serve --deployment {DEPLOYMENT} --port {port} --workers 1")
            console.print(f"[dim]Ready: pid {process.pid}, log {log}[/dim]")
            yield url
        finally:
            if process.poll() is None:
                process.terminate()  # SIGTERM: in-flight requests are answered, the prediction log flushed
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            # uvicorn re-raises the SIGTERM it handled once it has drained, hence -15 too
            graceful = process.returncode in (0, -signal.SIGTERM)
            console.print(f"Server stopped{' after draining in-flight requests' if graceful else f' (exit code {process.returncode})'}.")


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"steward serve exited early (code {process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"steward serve was not ready within {READY_TIMEOUT_S:.0f} s; see {log}")


class _Traffic:
    """Single-row requests from the holdout, sent concurrently; answers tallied per phase."""

    def __init__(self, http: httpx.Client, pool: ThreadPoolExecutor, rows: list[dict[str, Any]]) -> None:  # Any: JSON values
        self.http, self.pool, self.rows = http, pool, rows
        self.sent = 0
        self.phases: dict[str, Counter[tuple[str, str]]] = {}  # phase -> (variant, version) -> answers

    def _one(self, i: int, rows: list[dict[str, Any]] | None, advance: Callable[[], None] | None) -> tuple[str, str]:  # Any: JSON
        rows = self.rows if rows is None else rows
        answer = self.http.post("/predict", json=[rows[i % len(rows)]])
        if advance is not None:
            advance()
        if answer.status_code != 200:
            return "error", str(answer.status_code)
        return answer.headers.get("x-steward-variant", "-"), answer.headers.get("x-steward-model-version", "-")

    def send(
        self, phase: str, count: int, rows: list[dict[str, Any]] | None = None, advance: Callable[[], None] | None = None  # Any: JSON
    ) -> Counter[tuple[str, str]]:
        """``count`` requests, from ``rows`` instead of the holdout when given; ``advance`` is
        told of each answer as it arrives (from the pool's threads)."""
        seen = Counter(self.pool.map(lambda i: self._one(i, rows, advance), range(self.sent, self.sent + count)))
        self.sent += count
        self.phases.setdefault(phase, Counter()).update(seen)
        return seen

    def answered(self) -> int:
        return sum(n for seen in self.phases.values() for (variant, _), n in seen.items() if variant != "error")


def _ready_challenger(console: Console, settings: Settings, release: Release) -> None:
    """Approve the challenger when the registry requires an approval before live traffic."""
    if not settings.require_approval:
        return
    services = build_services(settings)
    try:
        registry = services.registry(REVIEWER)
        version = registry.get_version(MODEL, release.challenger)
        if version.state is ModelState.CANDIDATE and not version.approvals:
            registry.approve(MODEL, release.challenger, comment="demo: reviewed for a canary on live traffic")
            console.print(f"Approved {MODEL}:{release.challenger} as {REVIEWER!r}: a version needs an approval before it takes live traffic.")
    finally:
        services.close()


def _phase(deployment: Deployment) -> str:
    candidate = next((v for v in deployment.plan.variants if v.name == "candidate"), None)
    if deployment.status == "rolling_out" and candidate is not None:
        return f"canary {candidate.weight:g}%"
    return "champion"


def _describe(entry: HistoryEntry) -> str:
    plan = ", ".join(f"{v.name} {v.model} {v.weight:g}%" for v in entry.variants if not v.shadow and v.weight > 0)
    return f"rev {entry.revision} [bold]{entry.action}[/bold] by {entry.actor}: {entry.reason or '-'} -> {plan}"


def _follow_rollout(console: Console, settings: Settings, traffic: _Traffic, shown: int, began_ms: int) -> None:
    """Send traffic round after round until the controller ends the rollout (or the deadline),
    printing each change of the plan after revision ``shown`` as it happens."""
    deadline = time.monotonic() + ROLLOUT_DEADLINE_S
    steps = [float(w) for w in yaml.safe_load(ROLLOUT_POLICY)["steps"]]
    with bars(console) as progress:
        # the steps the challenger has reached, and the requests sent while the controller decides
        stepped = progress.add_task("Rollout", total=len(steps), unit="steps")
        sent = progress.add_task("Canary traffic", total=None, unit="requests")
        while True:
            current = deployments.get(DEPLOYMENT, settings=settings)
            if current.plan.revision != shown:
                for entry in reversed(deployments.history(DEPLOYMENT, max_results=10, settings=settings)):
                    # a deleted deployment's history stays, and its revisions began at 1 too
                    if entry.revision > shown and entry.created_at >= began_ms and entry.action.startswith(("rollout.", "rollback")):
                        console.print(_describe(entry))
                shown = current.plan.revision
            if current.status != "rolling_out":
                if current.status != "rolled_back":
                    progress.update(stepped, completed=len(steps), description="Rollout done")
                return
            phase = _phase(current)
            candidate = next((v for v in current.plan.variants if v.name == "candidate"), None)
            # at step k (its weight steps[k]) the k steps before it are done
            reached = sum(1 for w in steps if candidate is not None and w < candidate.weight)
            progress.update(stepped, completed=reached, description=f"Rollout, step {reached + 1}/{len(steps)}: {phase}")
            if time.monotonic() > deadline:
                deployments.rollback(DEPLOYMENT, reason=f"demo: no decision within {ROLLOUT_DEADLINE_S:.0f} s", settings=settings)
                continue
            traffic.send(phase, ROUND_REQUESTS, advance=lambda: progress.advance(sent))


def _split_table(traffic: _Traffic) -> Table:
    table = Table(title="Traffic split seen by the client (x-steward-variant, x-steward-model-version)")
    for column, justify in (("phase", "left"), ("requests", "right"), ("primary", "right"), ("candidate", "right"),
                            ("share", "right"), ("errors", "right"), ("versions", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]  # rich's Literal of justifications
    for phase, seen in traffic.phases.items():
        by_variant: Counter[str] = Counter()
        by_version: Counter[str] = Counter()
        for (variant, version), n in seen.items():
            by_variant[variant] += n
            if variant != "error":
                by_version[f"v{version}"] += n
        total = sum(seen.values())
        table.add_row(
            phase, str(total), str(by_variant["primary"]), str(by_variant["candidate"]),
            f"{by_variant['candidate'] / total:.1%}" if total else "-", str(by_variant["error"]),
            ", ".join(f"{v}: {n}" for v, n in sorted(by_version.items())),
        )
    return table


def _metrics_table(text: str) -> Table:
    """Requests, errors, p50/p99 and rows per model call per variant, from ``/metrics``."""
    requests: defaultdict[tuple[str, str], float] = defaultdict(float)
    errors: defaultdict[tuple[str, str], float] = defaultdict(float)
    buckets: dict[tuple[str, str], dict[float, float]] = {}
    batch_rows: defaultdict[str, float] = defaultdict(float)
    batches: defaultdict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if not labels.get("version"):
                continue
            if sample.name.startswith("steward_serving_batch_size"):
                # per version, whatever the deployment label: a model call serves every variant of the
                # version, and this server serves demo-api alone
                if sample.name.endswith("_sum"):
                    batch_rows[labels["version"]] += sample.value
                elif sample.name.endswith("_count"):
                    batches[labels["version"]] += sample.value
                continue
            if labels.get("deployment") != DEPLOYMENT:
                continue
            key = (labels.get("variant", ""), labels["version"])
            if sample.name == "steward_serving_requests_total":
                requests[key] += sample.value
            elif sample.name == "steward_serving_errors_total":
                errors[key] += sample.value
            elif sample.name == "steward_serving_request_duration_seconds_bucket":
                buckets.setdefault(key, {})[float(labels["le"])] = sample.value
    table = Table(title=f"/metrics of {DEPLOYMENT}: server side, whole session")
    for column in ("variant", "version", "requests", "errors", "p50 ms", "p99 ms", "rows per call"):
        table.add_column(column, justify="left" if column in ("variant", "version") else "right")
    for key in sorted(requests, key=lambda k: (k[1], k[0])):
        counts = _bucket_counts(buckets.get(key, {}))
        p50, p99 = latency_quantile_ms(counts, 0.5), latency_quantile_ms(counts, 0.99)
        table.add_row(
            key[0], f"v{key[1]}", f"{requests[key]:.0f}", f"{errors[key]:.0f}",
            "-" if p50 is None else f"{p50:.2f}", "-" if p99 is None else f"{p99:.2f}",
            f"{batch_rows[key[1]] / batches[key[1]]:.1f}" if batches[key[1]] else "-",
        )
    return table


def _bucket_counts(cumulative: dict[float, float]) -> tuple[int, ...]:
    """Prometheus' cumulative ``le`` buckets (seconds) as counts per :data:`LATENCY_BUCKETS_MS` bucket."""
    counts, below = [], 0.0
    for bound_ms in LATENCY_BUCKETS_MS:
        upto = cumulative.get(bound_ms / 1000, below)
        counts.append(int(upto - below))
        below = upto
    return tuple(counts)


def _decision(console: Console, settings: Settings, began_ms: int) -> None:
    """Print how the rollout ended and why: the evidence the controller recorded."""
    entries = [e for e in deployments.history(DEPLOYMENT, max_results=20, settings=settings) if e.created_at >= began_ms]
    ending = next((e for e in entries if e.action in ("rollout.promote", "rollout.rollback", "rollback")), None)
    if ending is None:
        console.print("[red]The rollout did not end.[/red]")
        return
    verb = "promoted" if ending.action == "rollout.promote" else "rolled back"
    who = "The controller" if ending.action.startswith("rollout.") else f"The demo ({ending.actor})"
    candidate = next((e for e in entries if e.action == "rollout.start"), None)
    model = next((v.model for v in candidate.variants if v.name == "candidate"), "the challenger") if candidate else "the challenger"
    console.print(f"[bold]{who} {verb} {model}[/bold] (revision {ending.revision}): {ending.reason}")
    evidence = ending.details.get("evidence")
    if isinstance(evidence, dict):
        limits = evidence.get("limits") or {}
        parts = []
        for variant in ("candidate", "primary"):
            totals = evidence.get(variant) or {}
            p99 = totals.get("p99_ms")
            parts.append(f"{variant} {totals.get('requests', 0)} requests, {totals.get('errors', 0)} errors, p99 {'-' if p99 is None else f'{p99:.1f} ms'}")
        bounds = ", ".join(f"{k} <= {v}" for k, v in limits.items())
        console.print(
            f"Evidence at step {evidence.get('step')}/{evidence.get('steps')} ({evidence.get('weight'):g}%, "
            f"{int(evidence.get('elapsed_ms', 0)) / 1000:.1f} s): {'; '.join(parts)}; limits: {bounds or '-'}"
        )
        for breach in evidence.get("breaches") or ():
            console.print(f"  breach: {breach}")


def _shifted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:  # Any: JSON values
    return [{k: v * SHIFTED_FEATURES[k] if k in SHIFTED_FEATURES else v for k, v in row.items()} for row in rows]


def serve_and_roll_out(console: Console, settings: Settings, release: Release, data: dict[str, Any]) -> Shift:  # Any: frames
    """Serve the champion, send traffic, roll the challenger out by policy, show what happened;
    then send traffic whose distribution has shifted (the window the monitoring chapter reads)."""
    console.rule("[bold]Serving[/bold]: a deployment, live traffic, a progressive rollout")
    began_ms = int(time.time() * 1000)
    challenger = f"{MODEL}:{release.challenger}"
    _ready_challenger(console, settings, release)
    try:
        deployments.delete(DEPLOYMENT, reason="demo: start afresh", settings=settings)
    except NotFoundError:
        pass
    created = deployments.create(DEPLOYMENT, f"{MODEL}@champion", reason="demo: serve the champion", settings=settings)
    console.print(f"$ steward deploy create {DEPLOYMENT} --model {MODEL}@champion")
    console.print(f"Deployment {DEPLOYMENT}: {created.plan.variants[0].model} (the champion) takes all traffic.")
    rows: list[dict[str, Any]] = data["x_test"].to_dict(orient="records")  # Any: JSON values
    with (
        _serve(settings, console) as url,
        httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as http,
        ThreadPoolExecutor(CONCURRENCY) as pool,
    ):
        traffic = _Traffic(http, pool, rows)
        start = time.perf_counter()
        with counting(console, f"Requests to the champion ({CONCURRENCY} threads)", WARM_UP_REQUESTS) as advance:
            traffic.send("champion", WARM_UP_REQUESTS, advance=advance)
        seconds = time.perf_counter() - start
        console.print(f"Sent {WARM_UP_REQUESTS} requests from {CONCURRENCY} threads in {seconds:.1f} s ({WARM_UP_REQUESTS / seconds:.0f} req/s).")
        console.print(f"$ steward deploy rollout {DEPLOYMENT} --model {challenger} --policy rollout.yaml")
        console.print(ROLLOUT_POLICY.rstrip(), style="dim", highlight=False)
        deployments.rollout(DEPLOYMENT, challenger, policy=ROLLOUT_POLICY, reason="demo: canary the challenger", settings=settings)
        _follow_rollout(console, settings, traffic, created.plan.revision, began_ms)
        ended = deployments.get(DEPLOYMENT, settings=settings)
        time.sleep(1.0)  # the server follows a new plan within STEWARD_SERVE_PLAN_INTERVAL
        after = "after promotion" if ended.status != "rolled_back" else "after rollback"
        with counting(console, f"Requests {after}", ROUND_REQUESTS * 2) as advance:
            traffic.send(after, ROUND_REQUESTS * 2, advance=advance)
        shifted = ", ".join(f"{name} x{factor:g}" for name, factor in SHIFTED_FEATURES.items())
        count = SHIFTED_PASSES * len(rows)
        console.print(
            f"Then the traffic shifts: {count} more requests (each holdout row {SHIFTED_PASSES} times) with {shifted}, "
            "the other features as they were."
        )
        shift_start = int(time.time() * 1000)
        with counting(console, "Shifted requests", count) as advance:
            traffic.send("shifted", count, _shifted_rows(rows), advance=advance)
        shift_end = int(time.time() * 1000) + 1  # the window's end is excluded
        metrics = http.get("/metrics").text
    console.print(_split_table(traffic))
    console.print(_metrics_table(metrics))
    _decision(console, settings, began_ms)
    log = steward.predictions.read(DEPLOYMENT, began_ms, None, settings=settings)
    console.print(f"Prediction log: {len(log)} rows for {DEPLOYMENT} in this window; {traffic.answered()} requests were answered.")
    if len(log):
        console.print("  by variant: " + ", ".join(f"{v} {n}" for v, n in log["variant"].value_counts().items()))
    console.print(
        f"Next: [bold]steward deploy history {DEPLOYMENT}[/bold], [bold]steward predictions read {DEPLOYMENT} --start 1h "
        f"--out window.parquet[/bold], [bold]steward serve --deployment {DEPLOYMENT}[/bold]"
    )
    return Shift(shift_start, shift_end, tuple(SHIFTED_FEATURES))
