"""search_runs over 1,000 runs (issue 11's search target), Steward beside MLflow, in one run.

The same work as the search section of ``bench/tracking.py``, alone, so it can be repeated
on a busy machine without the logging sections around it: 1,000 runs x 20 params + one
metric ``m0`` logged through each tool's own client, then ``search_runs`` with
``metrics.m0 > 0.5`` ordered by ``metrics.m0 DESC``, ``max_results=100``, embedded and
through each tool's server (Steward's ``steward server``; ``mlflow server`` with SQLite,
one worker), both servers reading the store the embedded half wrote. Each figure: median
of ``--calls`` after one warm-up, wall time and CPU time (user+sys of the client process
and of the server process: the work of the call wherever it runs).

MLflow runs in bench/.venv-mlflow (bench/mlflow_env.sh) as this same file with
``--mlflow-half``; the imports of each half are inside its functions for that reason.

Usage: python bench/search_runs.py [--runs 1000] [--calls 21] [--skip-mlflow] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
N_PARAMS = 20
FILTER = "metrics.m0 > 0.5"
ORDER = "metrics.m0 DESC"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user+sys) of this process and of ``pids`` (a server's processes)."""
    total = time.process_time()
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a server's CLI, its workers and their helpers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _timed(call: Callable[[], int], calls: int, server_pid: int | None = None) -> dict[str, float]:
    """Median wall and CPU seconds of ``call`` after one warm-up; ``hits`` its result."""
    hits = call()
    pids = [] if server_pid is None else _tree(server_pid)  # after the warm-up: workers are up
    walls, cpus = [], []
    for _ in range(calls):
        c, t = _cpu_of(pids), time.perf_counter()
        hits = call()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu_of(pids) - c)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "hits": hits}


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"server not ready after {timeout_s:.0f}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group (uvicorn may have children), then kill."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _serve(cmd: list[str], env: dict[str, str], ready: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait(ready, proc)
    except Exception:
        _stop(proc)
        raise
    return proc


def steward_half(work: Path, n_runs: int, calls: int) -> dict[str, Any]:
    from steward import Client, Settings

    home = work / "steward"
    client = Client(Settings(home=home))
    rng = random.Random(1)
    params = {f"p{j}": f"value-{j}" for j in range(N_PARAMS)}
    for _ in range(n_runs):
        with client.start_run("bench-runs", params=params) as run:
            run.log_metric("m0", rng.random(), 0)

    def search(c: Any = client) -> int:  # Any: a steward Client, embedded or remote
        return len(c.search_runs("bench-runs", filter=FILTER, order_by=[ORDER], max_results=100).runs)

    out: dict[str, Any] = {"embedded": _timed(search, calls)}
    client.close()
    port = _free_port()
    env = {**os.environ, "STEWARD_HOME": str(home)}
    cmd = [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(port)]
    proc = _serve(cmd, env, f"http://127.0.0.1:{port}/readyz", work / "steward-server.log")
    try:
        remote = Client(Settings(tracking_uri=f"http://127.0.0.1:{port}"))
        out["server"] = _timed(lambda: search(remote), calls, proc.pid)
        remote.close()
    finally:
        _stop(proc)
    return out


def mlflow_half(work: Path, n_runs: int, calls: int) -> dict[str, Any]:
    os.environ.update(MLFLOW_ENABLE_TELEMETRY="false", DO_NOT_TRACK="true", MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true")
    import mlflow
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    work.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{work / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("bench-runs", artifact_location=str(work / "artifacts"))
    rng = random.Random(1)
    params = [Param(f"p{j}", f"value-{j}") for j in range(N_PARAMS)]
    for _ in range(n_runs):
        run_id = client.create_run(exp).info.run_id
        client.log_batch(run_id, metrics=[Metric("m0", rng.random(), int(time.time() * 1000), 0)], params=params)
        client.set_terminated(run_id)

    def search(c: Any = client) -> int:  # Any: an MlflowClient, on the store or on the server
        return len(c.search_runs([exp], filter_string=FILTER, order_by=[ORDER], max_results=100))

    out: dict[str, Any] = {"mlflow_version": mlflow.__version__, "embedded": _timed(search, calls)}
    port = _free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1"]  # fmt: skip
    proc = _serve(cmd, os.environ.copy(), f"http://127.0.0.1:{port}/health", work / "mlflow-server.log")
    try:
        remote = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
        out["server"] = _timed(lambda: search(remote), calls, proc.pid)
    finally:
        _stop(proc)
    return out


def report(results: dict[str, Any]) -> None:
    st, ml = results["steward"], results.get("mlflow") or {}
    print(f"\n{results['date']}: search_runs over {results['runs']:,} runs, median of {results['calls']}; "
          f"load average {results['load_start']:.2f} at start, {results['load_end']:.2f} at the end")  # fmt: skip
    print(f"{'':12}{'Steward ms':>12}{'CPU ms':>8}{'MLflow ms':>11}{'CPU ms':>8}{'wall ratio':>12}{'CPU ratio':>11}")
    for where in ("embedded", "server"):
        s, m = st[where], ml.get(where)
        ratio = f"{m['wall_s'] / s['wall_s']:11.1f}x" if m else "-"
        cpu_ratio = f"{m['cpu_s'] / s['cpu_s']:10.1f}x" if m and s["cpu_s"] else "-"
        print(
            f"{where:12}{s['wall_s'] * 1000:12.2f}{s['cpu_s'] * 1000:8.2f}"
            f"{(m or {}).get('wall_s', 0) * 1000:11.2f}{(m or {}).get('cpu_s', 0) * 1000:8.2f}{ratio:>12}{cpu_ratio:>11}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=21)
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--json-out")
    ap.add_argument("--mlflow-half", metavar="WORKDIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mlflow_half:
        result = mlflow_half(Path(args.mlflow_half), args.runs, args.calls)
        print(json.dumps(result))
        return
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": args.runs, "calls": args.calls,
        "load_start": os.getloadavg()[0],
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        work = Path(tmp)
        results["steward"] = steward_half(work, args.runs, args.calls)
        print(json.dumps(results["steward"]), flush=True)
        if not args.skip_mlflow:
            python = HERE / ".venv-mlflow" / "bin" / "python"
            if not python.exists():
                subprocess.run(["bash", str(HERE / "mlflow_env.sh")], check=True)
            done = subprocess.run(
                [str(python), __file__, "--runs", str(args.runs), "--calls", str(args.calls), "--mlflow-half", str(work / "mlflow")],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results["mlflow"] = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(results["mlflow"]), flush=True)
    results["load_end"] = os.getloadavg()[0]
    report(results)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
