"""MLflow half of ``bench/tracking.py``: time MLflow's tracking API on SQLite.

Run inside the isolated venv made by ``bench/mlflow_env.sh``::

    bench/.venv-mlflow/bin/python bench/_mlflow_work.py \
        --workdir DIR --scale 1.0 --json-out FILE

Sections (all timed with ``time.perf_counter`` until the call returns; MLflow
writes synchronously, so that is the durability point):

* ``metrics_per_call``: ``MlflowClient.log_metric`` one point per call. The full
  10 runs x 10 metrics x 1,000 steps = 100,000 points takes minutes, so a
  sample is timed and extrapolated linearly to 100,000 points. Cost per point
  grows as the table fills, so this is a lower bound: all 100,000 points
  (``--scale 50``) once took ~20% more than the 2,000-point estimate.
* ``metrics_log_batch``: the same 100,000 points via ``log_batch`` in batches
  of 1,000 (MLflow's per-call maximum).
* ``runs_params``: 1,000 runs, each created, given 20 params and one metric
  ``m0`` (random in [0, 1]) in one ``log_batch``, one small text artifact,
  then terminated.
* ``search``: median of 5 ``search_runs`` over those runs with
  ``metrics.m0 > 0.5``, ordered by ``metrics.m0 DESC``, ``max_results=100``.
* ``server_*``: the ``metrics_log_batch``, ``runs_params`` and ``search`` workloads
  over HTTP against a local ``mlflow server`` (SQLite backend, one worker, artifacts
  proxied through the server).

Run creation is outside the timing of the metric sections and inside it for
``runs_params``. Every section uses its own fresh experiment. ``--scale`` < 1
shrinks each section (for smoke tests); the per-call sample (2,000 points at
scale 1) scales with it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

# mlflow reads these at import time, so it is imported lazily, after
# _configure_env(): no telemetry (it would reach for the network), quieter
# logs, and no run URLs printed to stdout (which carries the JSON).
_MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "ERROR",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "GIT_PYTHON_REFRESH": "quiet",
}

N_RUNS = 10
N_METRICS = 10
N_STEPS = 1_000
FULL_POINTS = N_RUNS * N_METRICS * N_STEPS  # 100,000
BATCH_SIZE = 1_000  # mlflow.utils.validation.MAX_METRICS_PER_BATCH
PER_CALL_SAMPLE = 2_000
N_PARAM_RUNS = 1_000
N_PARAMS = 20
SEARCH_CALLS = 5
SERVER_START_TIMEOUT_S = 180.0
BASE_TS_MS = 1_700_000_000_000


def _configure_env() -> None:
    """Set MLflow's environment (before its first import) and mute warnings."""
    for key, value in _MLFLOW_ENV.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")


def _quiet_logging() -> None:
    """Silence MLflow, alembic and SQLAlchemy chatter (after importing mlflow)."""
    for name in ("mlflow", "alembic", "sqlalchemy", "urllib3", "huey"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _scaled(full: int, scale: float, minimum: int) -> int:
    """``full`` scaled by ``min(scale, 1)``, at least ``minimum``."""
    return max(minimum, round(full * min(scale, 1.0)))


def _new_experiment(client: MlflowClient, name: str, artifact_root: Path | None) -> str:
    """Create a fresh experiment; local ones get their own artifact folder."""
    location = (artifact_root / name).as_uri() if artifact_root is not None else None
    return client.create_experiment(name, artifact_location=location)


def _make_runs(client: MlflowClient, exp_id: str, n: int) -> list[str]:
    """Create ``n`` runs in ``exp_id`` and return their ids."""
    return [client.create_run(exp_id, run_name=f"r{i}").info.run_id for i in range(n)]


def _end_runs(client: MlflowClient, run_ids: list[str]) -> None:
    """Mark runs finished (outside any timed section)."""
    for run_id in run_ids:
        client.set_terminated(run_id)


def _points(run_ids: list[str], n_steps: int) -> Iterator[tuple[str, str, float, int]]:
    """Yield (run_id, key, value, step), step-major so a sample spans all runs."""
    rng = random.Random(0)
    for step in range(n_steps):
        for run_id in run_ids:
            for m in range(N_METRICS):
                yield run_id, f"m{m}", rng.random(), step


def time_metrics_per_call(
    client: MlflowClient, artifact_root: Path, sample: int
) -> tuple[float, float]:
    """Time ``sample`` single-point ``log_metric`` calls; return (measured s, extrapolated s)."""
    exp_id = _new_experiment(client, "per_call", artifact_root)
    run_ids = _make_runs(client, exp_id, N_RUNS)
    points = list(_points(run_ids, N_STEPS))[:sample]
    t0 = time.perf_counter()
    for run_id, key, value, step in points:
        client.log_metric(
            run_id, key, value, timestamp=BASE_TS_MS + step, step=step, synchronous=True
        )
    measured = time.perf_counter() - t0
    _end_runs(client, run_ids)
    return measured, measured * FULL_POINTS / len(points)


def time_metrics_log_batch(
    client: MlflowClient, artifact_root: Path | None, name: str, n_steps: int
) -> float:
    """Time logging N_RUNS x N_METRICS x ``n_steps`` points via ``log_batch`` of 1,000."""
    from mlflow.entities import Metric

    exp_id = _new_experiment(client, name, artifact_root)
    run_ids = _make_runs(client, exp_id, N_RUNS)
    rng = random.Random(0)
    batches: list[tuple[str, list[Metric]]] = []
    for run_id in run_ids:
        run_points = [
            Metric(f"m{m}", rng.random(), BASE_TS_MS + step, step)
            for step in range(n_steps)
            for m in range(N_METRICS)
        ]
        for i in range(0, len(run_points), BATCH_SIZE):
            batches.append((run_id, run_points[i : i + BATCH_SIZE]))
    t0 = time.perf_counter()
    for run_id, metrics in batches:
        client.log_batch(run_id, metrics=metrics, synchronous=True)
    elapsed = time.perf_counter() - t0
    _end_runs(client, run_ids)
    return elapsed


def time_runs_params(
    client: MlflowClient, artifact_root: Path | None, workdir: Path, n_runs: int
) -> tuple[float, str]:
    """Time ``n_runs`` x (create, 20 params + m0 in one log_batch, one artifact, end)."""
    from mlflow.entities import Metric, Param

    exp_id = _new_experiment(client, "runs_params", artifact_root)
    artifact = workdir / "note.txt"
    artifact.write_text("steward benchmark artifact\n")
    rng = random.Random(1)
    params = [Param(f"p{j}", f"value-{j}") for j in range(N_PARAMS)]
    m0_values = [rng.random() for _ in range(n_runs)]
    t0 = time.perf_counter()
    for i in range(n_runs):
        run_id = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("m0", m0_values[i], BASE_TS_MS, 0)],
            params=params,
            synchronous=True,
        )
        client.log_artifact(run_id, str(artifact))
        client.set_terminated(run_id)
    return time.perf_counter() - t0, exp_id


def time_search(client: MlflowClient, exp_id: str) -> tuple[float, int]:
    """Median of SEARCH_CALLS filtered, ordered ``search_runs``; also the hit count."""
    times: list[float] = []
    hits = 0
    for _ in range(SEARCH_CALLS):
        t0 = time.perf_counter()
        runs = client.search_runs(
            [exp_id],
            filter_string="metrics.m0 > 0.5",
            order_by=["metrics.m0 DESC"],
            max_results=100,
        )
        times.append(time.perf_counter() - t0)
        hits = len(runs)
    return statistics.median(times), hits


def _free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll ``url`` until HTTP 200; raise if the server exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"mlflow server not healthy after {timeout_s:.0f}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group (it has uvicorn children), then kill."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def time_server(workdir: Path, n_steps: int, n_param_runs: int) -> dict[str, Any]:
    """Start ``mlflow server`` (SQLite, one worker, artifacts proxied through it as
    ``mlflow-artifacts:/``) and time the log_batch, runs_params and search workloads over HTTP."""
    from mlflow.tracking import MlflowClient

    port = _free_port()
    log_path = workdir / "server.log"
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{workdir / 'srv.db'}",
        "--artifacts-destination", str(workdir / "srv-art"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=os.environ.copy(), start_new_session=True,
        )  # fmt: skip
    out: dict[str, Any] = {}
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", proc, SERVER_START_TIMEOUT_S)
        client = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
        out["server_metrics_log_batch_s"] = time_metrics_log_batch(client, None, "server_log_batch", n_steps)
        out["server_runs_params_s"], exp = time_runs_params(client, None, workdir, n_param_runs)
        out["server_search_median_s"], out["server_search_hits"] = time_search(client, exp)
    except Exception as exc:  # noqa: BLE001  (record it; don't fail the whole benchmark)
        tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        out["server_error"] = f"{type(exc).__name__}: {exc}\n--- server log tail ---\n{tail}"
    finally:
        _stop(proc)
    return out


def _timed_section(label: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` and print a one-line progress note to stderr."""
    t0 = time.perf_counter()
    out = fn()
    print(
        f"[mlflow] {label}: done in {time.perf_counter() - t0:.1f}s wall",
        file=sys.stderr,
        flush=True,
    )
    return out


def run(workdir: Path, scale: float, skip_server: bool = False) -> dict[str, Any]:
    """Run every section and return the result dict (keys as tracking.py expects)."""
    _configure_env()
    import mlflow
    from mlflow.tracking import MlflowClient

    _quiet_logging()
    load_1m = os.getloadavg()[0]
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("mlflow.db", "srv.db", "artifacts", "srv-art", "note.txt", "server.log"):
        path = workdir / stale
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    artifact_root = workdir / "artifacts"
    artifact_root.mkdir()
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
    client.search_experiments()  # create + migrate the schema before any timing

    sample = min(FULL_POINTS, max(50, round(PER_CALL_SAMPLE * scale)))
    n_steps = _scaled(N_STEPS, scale, 1)
    n_param_runs = _scaled(N_PARAM_RUNS, scale, 10)

    per_call_measured, per_call_extrap = _timed_section(
        f"metrics_per_call ({sample} points)",
        lambda: time_metrics_per_call(client, artifact_root, sample),
    )
    log_batch_s = _timed_section(
        f"metrics_log_batch ({N_RUNS * N_METRICS * n_steps} points)",
        lambda: time_metrics_log_batch(client, artifact_root, "log_batch", n_steps),
    )
    runs_params_s, rp_exp = _timed_section(
        f"runs_params ({n_param_runs} runs)",
        lambda: time_runs_params(client, artifact_root, workdir, n_param_runs),
    )
    search_s, search_hits = _timed_section("search", lambda: time_search(client, rp_exp))
    if skip_server:
        server: dict[str, Any] = {"server_error": "skipped (--skip-server)"}
    else:
        server = _timed_section("server sections", lambda: time_server(workdir, n_steps, n_param_runs))

    return {
        "mlflow_version": mlflow.__version__,
        "scale": scale,
        "metrics_per_call_s": per_call_extrap,
        "metrics_per_call_extrapolated": sample < FULL_POINTS,
        "metrics_per_call_extrapolated_to_points": FULL_POINTS,
        "metrics_per_call_sampled_points": sample,
        "metrics_per_call_measured_s": per_call_measured,
        "metrics_log_batch_s": log_batch_s,
        "metrics_log_batch_points": N_RUNS * N_METRICS * n_steps,
        "runs_params_s": runs_params_s,
        "runs_params_runs": n_param_runs,
        "search_median_s": search_s,
        "search_hits": search_hits,
        "server_metrics_log_batch_s": server.get("server_metrics_log_batch_s"),
        "server_metrics_log_batch_points": N_RUNS * N_METRICS * n_steps,
        "server_runs_params_s": server.get("server_runs_params_s"),
        "server_search_median_s": server.get("server_search_median_s"),
        "server_search_hits": server.get("server_search_hits"),
        "server_error": server.get("server_error"),
        "cpu_count": os.cpu_count(),
        "loadavg_1m_at_start": load_1m,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--workdir", type=Path, required=True, help="scratch folder (its MLflow files are replaced)"
    )
    ap.add_argument("--scale", type=float, default=1.0, help="<1 shrinks every section; default 1")
    ap.add_argument("--json-out", type=Path, required=True, help="where to write the result dict")
    ap.add_argument("--skip-server", action="store_true", help="skip the mlflow server section")
    args = ap.parse_args(argv)
    if args.scale <= 0:
        ap.error("--scale must be > 0")
    result = run(args.workdir.resolve(), args.scale, skip_server=args.skip_server)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
