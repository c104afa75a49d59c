"""Tracking benchmark: Steward (embedded and through its server) beside MLflow, in one run.

Work, as issue 2 names it:
  * 100,000 metric points (10 runs x 10 metrics x 1,000 steps), timed until durable;
  * 1,000 runs x 20 params + one metric + one artifact;
  * search_runs with a metric filter and order over those 1,000 runs (median of 5);
  * the floor: a bare sqlite3 executemany of 100,000 rows.
MLflow runs in its own venv (bench/.venv-mlflow, made by bench/mlflow_env.sh) through
bench/_mlflow_work.py, so it never pins our dependencies. Medians and ratios are printed;
these machines are shared and noisy, so read ratios, not absolute seconds.

Usage: python bench/tracking.py [--scale 0.1] [--skip-mlflow] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _floor import sqlite_executemany_floor  # noqa: E402

from steward import Client, Settings  # noqa: E402

N_RUNS, N_METRICS, N_STEPS = 10, 10, 1_000
N_PARAM_RUNS, N_PARAMS = 1_000, 20
SEARCH_CALLS = 5


# The server's pid while the server half runs: its CPU time is counted with the client's.
_SERVER_PID: list[int] = []
_CPU: dict[str, float] = {}  # section -> CPU seconds (user + system) of the timed work


def _cpu_now() -> float:
    """CPU seconds (user + system) of this process (all its threads) and of the running server."""
    total = time.process_time()
    for pid in _SERVER_PID:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "STEWARD_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a fresh store is migrated first; slow on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("steward server did not start")


def time_metrics(client: Client, steps: int, section: str) -> float:
    """Runs are created first (as in the MLflow half); timed: every log call + end (durable)."""
    rng = random.Random(0)
    runs = [client.start_run("bench-metrics", capture=False) for _ in range(N_RUNS)]
    values = [rng.random() for _ in range(N_METRICS * steps)]
    c0, t0 = _cpu_now(), time.perf_counter()
    for run in runs:
        log = run.log_metric
        i = 0
        for step in range(steps):
            for m in range(N_METRICS):
                log(f"m{m}", values[i], step)
                i += 1
    for run in runs:
        run.end()
    elapsed = time.perf_counter() - t0
    _CPU[section] = _cpu_now() - c0
    return elapsed


def time_log_metrics(client: Client, steps: int, section: str) -> float:
    """As :func:`time_metrics`, with one ``log_metrics`` call of the 10 metrics per step and
    each run's start and end inside the timing (the issue's "within 3x of executemany")."""
    rng = random.Random(0)
    values = [[rng.random() for _ in range(N_METRICS)] for _ in range(steps)]
    keys = [f"m{m}" for m in range(N_METRICS)]
    c0, t0 = _cpu_now(), time.perf_counter()
    for _ in range(N_RUNS):
        with client.start_run("bench-log-metrics", capture=False) as run:
            for step in range(steps):
                run.log_metrics(dict(zip(keys, values[step], strict=True)), step=step)
    elapsed = time.perf_counter() - t0
    _CPU[section] = _cpu_now() - c0
    return elapsed


def time_runs_params(client: Client, n_runs: int, workdir: Path, section: str) -> float:
    artifact = workdir / "note.txt"
    artifact.write_text("steward benchmark artifact\n")
    rng = random.Random(1)
    params = {f"p{j}": f"value-{j}" for j in range(N_PARAMS)}
    c0, t0 = _cpu_now(), time.perf_counter()
    for i in range(n_runs):
        with client.start_run("bench-runs", params=params) as run:
            run.log_metric("m0", rng.random(), 0)
            run.log_artifact(artifact)
    elapsed = time.perf_counter() - t0
    _CPU[section] = _cpu_now() - c0
    return elapsed


def time_search(client: Client) -> tuple[float, int]:
    times = []
    hits = 0
    for _ in range(SEARCH_CALLS):
        t0 = time.perf_counter()
        page = client.search_runs(
            "bench-runs", filter="metrics.m0 > 0.5", order_by=["metrics.m0 DESC"], max_results=100
        )
        times.append(time.perf_counter() - t0)
        hits = len(page.runs)
    return statistics.median(times), hits


def steward_half(workdir: Path, scale: float) -> dict[str, Any]:
    steps = max(10, int(N_STEPS * scale))
    n_runs = max(10, int(N_PARAM_RUNS * scale))
    out: dict[str, Any] = {"points": N_RUNS * N_METRICS * steps, "runs": n_runs}
    embedded = Client(Settings(home=workdir / "embedded"))
    out["embedded_metrics_s"] = time_metrics(embedded, steps, "embedded_metrics")
    out["embedded_log_metrics_s"] = time_log_metrics(embedded, steps, "embedded_log_metrics")
    out["embedded_runs_params_s"] = time_runs_params(embedded, n_runs, workdir, "embedded_runs_params")
    out["embedded_search_median_s"], out["embedded_search_hits"] = time_search(embedded)
    embedded.close()
    proc, url = _start_server(workdir / "server")
    _SERVER_PID.append(proc.pid)
    try:
        remote = Client(Settings(tracking_uri=url))
        out["server_metrics_s"] = time_metrics(remote, steps, "server_metrics")
        sent: list[str] = []
        http = remote.backend._http  # type: ignore[attr-defined]  # HttpBackend's httpx client
        http.event_hooks["request"].append(lambda request: sent.append(request.url.path))
        out["server_runs_params_s"] = time_runs_params(remote, n_runs, workdir, "server_runs_params")
        out["server_requests_per_run"] = len(sent) / n_runs
        http.event_hooks["request"].clear()
        out["server_search_median_s"], out["server_search_hits"] = time_search(remote)
        remote.close()
    finally:
        _SERVER_PID.clear()
        proc.terminate()
        proc.wait(timeout=10)
    out["cpu_s"] = dict(_CPU)
    return out


def mlflow_half(workdir: Path, scale: float) -> dict[str, Any] | None:
    python = HERE / ".venv-mlflow" / "bin" / "python"
    if not python.exists():
        print(
            "bench/.venv-mlflow missing: run `bash bench/mlflow_env.sh` (make bench does)",
            file=sys.stderr,
        )
        return None
    out_file = workdir / "mlflow.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            str(python),
            str(HERE / "_mlflow_work.py"),
            "--workdir",
            str(workdir / "mlflow"),
            "--scale",
            str(scale),
            "--json-out",
            str(out_file),
        ],
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(out_file.read_text())
    # all of MLflow's half (set-up, every section, its server once stopped), not per section
    result["cpu_total_s"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return result


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:9.3f}"


def _ratio(peer: float | None, ours: float | None) -> str:
    if not peer or not ours:
        return "-"
    return f"{peer / ours:8.1f}x"


def report(st: dict[str, Any], ml: dict[str, Any] | None, floor: float) -> None:
    ml = ml or {}
    rows = [
        (
            "100k points, embedded SDK",
            st["embedded_metrics_s"],
            ml.get("metrics_log_batch_s"),
            "MLflow log_batch",
        ),
        (
            "100k points, embedded SDK",
            st["embedded_metrics_s"],
            ml.get("metrics_per_call_s"),
            "MLflow log_metric/call (extrapolated)",
        ),
        (
            "100k points, via server",
            st["server_metrics_s"],
            ml.get("server_metrics_log_batch_s"),
            "MLflow server log_batch",
        ),
        (
            "1,000 runs x 20 params + artifact, embedded",
            st["embedded_runs_params_s"],
            ml.get("runs_params_s"),
            "MLflow",
        ),
        (
            "1,000 runs x 20 params + artifact, server",
            st["server_runs_params_s"],
            ml.get("server_runs_params_s"),
            "MLflow server",
        ),
        (
            "1,000 runs x 20 params + artifact, server",
            st["server_runs_params_s"],
            ml.get("runs_params_s"),
            "MLflow (embedded)",
        ),
        (
            "search_runs metric filter, embedded",
            st["embedded_search_median_s"],
            ml.get("search_median_s"),
            "MLflow",
        ),
        (
            "search_runs metric filter, server",
            st["server_search_median_s"],
            ml.get("server_search_median_s"),
            "MLflow server",
        ),
    ]
    print()
    print(f"{'work':46} {'steward s':>10} {'peer s':>10} {'speed-up':>9}  peer")
    for name, ours, peer, peer_name in rows:
        print(f"{name:46} {_fmt(ours):>10} {_fmt(peer):>10} {_ratio(peer, ours):>9}  {peer_name}")
    print()
    scaled_floor = floor * st["points"] / 100_000
    print(f"SQLite floor (bare executemany of {st['points']:,} rows): {scaled_floor:.3f} s")
    print(
        f"embedded 100k points / floor: {st['embedded_metrics_s'] / scaled_floor:.2f}x (target < 3x)"
    )
    print(
        f"embedded log_metrics, 10 runs x {st['points'] // 100:,} steps x 10 metrics, starts and ends included / floor: "
        f"{st['embedded_log_metrics_s'] / scaled_floor:.2f}x (target < 3x)"
    )
    print(f"100k points via server / embedded: {st['server_metrics_s'] / st['embedded_metrics_s']:.2f}x (target <= 3x)")
    print(f"requests per run through the server (runs x 20 params + artifact): {st['server_requests_per_run']:.2f} (target <= 2)")
    cpu = st.get("cpu_s", {})
    if cpu:
        print(
            "Steward CPU time (user + system; through the server: client and server processes) of the timed work: "
            + ", ".join(f"{k} {v:.3f} s" for k, v in cpu.items())
        )
    if ml.get("cpu_total_s"):
        print(f"MLflow's half, all sections, CPU time of its processes: {ml['cpu_total_s']:.1f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if ml.get("mlflow_version"):
        print(f"MLflow {ml['mlflow_version']}, scale {ml.get('scale')}")
    if ml.get("server_error"):
        print(f"MLflow server section: {ml['server_error']}")


def main() -> None:
    ap = argparse.ArgumentParser(description="Steward vs MLflow tracking benchmark")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as tmp:
        work = Path(tmp)
        floor = sqlite_executemany_floor(100_000)
        st = steward_half(work, args.scale)
        ml = None if args.skip_mlflow else mlflow_half(work, args.scale)
        report(st, ml, floor)
        if args.json_out:
            args.json_out.write_text(
                json.dumps({"steward": st, "mlflow": ml, "floor_s": floor}, indent=2)
            )


if __name__ == "__main__":
    main()
