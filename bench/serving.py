"""Serving benchmark: one scikit-learn model (20 numeric features) behind five HTTP servers.

- Steward: ``steward serve`` (validation against the signature, routing, metrics, and the
  prediction log writing every prediction);
- MLflow: ``mlflow models serve`` (bench/.venv-mlflow);
- BentoML 1.4, plain and with adaptive batching (bench/.venv-peers);
- the floor: a bare Starlette route (parse JSON, predict, answer) on uvicorn, and the same
  on granian.

Every server runs with the same number of worker processes. Load comes from ``wrk`` in
another process (Debian's package) for a fixed duration at each connection count and
request size. Printed per run: requests/s, p50/p99 latency, errors, the server's resident
memory (all its processes); then Steward's ratios and its overhead over an in-process
``predict``. Indicative only: this machine has 2 cores, shared by the load generator.

    python bench/serving.py --duration 10 --json-out bench/results/serving.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _serving_model import COLUMNS, fitted, request_rows

PY = sys.executable
MLFLOW_PY = HERE / ".venv-mlflow" / "bin" / "python"
PEERS_PY = HERE / ".venv-peers" / "bin" / "python"


@dataclass
class Server:
    name: str
    argv: list[str]
    path: str
    body: Callable[[list[list[float]]], dict[str, object]]
    env: dict[str, str]
    cwd: Path = HERE


@dataclass
class Result:
    server: str
    connections: int
    rows: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _split(rows: list[list[float]]) -> dict[str, object]:
    return {"columns": COLUMNS, "data": rows}


def _mlflow(rows: list[list[float]]) -> dict[str, object]:
    return {"dataframe_split": {"columns": COLUMNS, "data": rows}}


def _data(rows: list[list[float]]) -> dict[str, object]:
    return {"data": rows}


def start(server: Server, port: int, log: Path, wait: float = 240.0) -> subprocess.Popen[bytes]:
    argv = [a.replace("{port}", str(port)) for a in server.argv]
    out = open(log, "wb")  # noqa: SIM115 - handed to the child; closed when the benchmark ends
    proc = subprocess.Popen(argv, cwd=server.cwd, env={**os.environ, **server.env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    body = server.body(request_rows(1))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {log.read_text()[-2000:]}")
        try:
            answer = httpx.post(f"http://127.0.0.1:{port}{server.path}", json=body, timeout=5)
            if answer.status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"{server.name} not ready in {wait} s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rss_mb(proc: subprocess.Popen[bytes]) -> float:
    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(found[1]) * _UNITS[found[2]] if found else float("nan")


def wrk(url: str, body: dict[str, object], connections: int, duration: float, lua: Path) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, errors) of one fixed-duration wrk run."""
    payload = json.dumps(body)
    lua.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(payload)}\n"
    )
    threads = 1 if connections < 16 else 2
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "--latency", "-s", str(lua), url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out)[1])  # type: ignore[index]
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors += int(non2xx[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return rps, p50, p99, errors


def steward_store(tmp: Path) -> dict[str, str]:
    """A fresh embedded store holding the model as fraud:1; the environment that points at it."""
    from steward import Client, Settings

    env = {
        "STEWARD_HOME": str(tmp / "home"),
        "STEWARD_DATABASE_URL": f"sqlite:///{tmp / 'steward.db'}",
        "STEWARD_ARTIFACT_ROOT": str(tmp / "artifacts"),
        "STEWARD_USER": "bench",
        "STEWARD_CAPTURE_GIT": "false",
        "STEWARD_CAPTURE_PACKAGES": "false",
    }
    import pandas as pd
    from _serving_model import training_data

    settings = Settings(home=tmp / "home", database_url=env["STEWARD_DATABASE_URL"], artifact_root=env["STEWARD_ARTIFACT_ROOT"],
                        user="bench", capture_git=False, capture_packages=False)
    client = Client(settings)
    x, _ = training_data()
    with client.start_run("bench-serving") as run:
        run.log_model(fitted(frame=True), "fraud", input_example=pd.DataFrame(x[:5], columns=COLUMNS), registered_model_name="fraud")
    client.close()
    return env


def in_process_predict_ms(env: dict[str, str]) -> tuple[float, float]:
    """Median ms of ``steward.models.load(...).predict`` (signature checked, DataFrame) and of the
    bare estimator's ``predict`` on a one-row array."""
    import numpy as np
    import pandas as pd

    import steward.models
    from steward import Settings

    settings = Settings(home=Path(env["STEWARD_HOME"]), database_url=env["STEWARD_DATABASE_URL"], artifact_root=env["STEWARD_ARTIFACT_ROOT"])
    predictor = steward.models.load("fraud:1", settings=settings)
    frame = pd.DataFrame(request_rows(1), columns=COLUMNS)
    bare = fitted(frame=False)
    array = np.asarray(request_rows(1))

    def median(fn: Callable[[], object], n: int = 2_000) -> float:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    return median(lambda: predictor.predict(frame)), median(lambda: bare.predict(array))


def servers(workers: int, steward_env: dict[str, str], mlflow_dir: Path | None) -> list[Server]:
    common = {"BENCH_WORKERS": str(workers), "BENTOML_DO_NOT_TRACK": "true", "PYTHONPATH": str(HERE)}
    found = [
        # granian, the default
        Server("steward", [PY, "-m", "steward", "serve", "fraud:1", "--workers", str(workers), "--port", "{port}"], "/predict", _split, steward_env, ROOT),
        Server(
            "steward (uvicorn)", [PY, "-m", "steward", "serve", "fraud:1", "--workers", str(workers), "--port", "{port}", "--server", "uvicorn"],
            "/predict", _split, steward_env, ROOT,
        ),
        Server(
            "bare starlette (uvicorn)",
            [PY, "-m", "uvicorn", "_serving_bare:app", "--port", "{port}", "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
            "/predict", _data, common,
        ),
        Server(
            "bare starlette (granian)",
            [str(Path(PY).parent / "granian"), "--interface", "asgi", "--workers", str(workers), "--port", "{port}", "--no-ws", "_serving_bare:app"],
            "/predict", _data, common,
        ),
    ]
    if mlflow_dir is not None:
        found.append(Server(
            "mlflow models serve",
            [str(MLFLOW_PY), "-m", "mlflow", "models", "serve", "-m", str(mlflow_dir), "-p", "{port}", "-h", "127.0.0.1", "--env-manager", "local", "-w", str(workers)],
            # mlflow starts `uvicorn` from PATH: its own venv's
            "/invocations", _mlflow, {**common, "PATH": f"{MLFLOW_PY.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        ))
    if PEERS_PY.exists():
        bento = str(HERE / ".venv-peers" / "bin" / "bentoml")
        for cls in ("Plain", "Batched"):
            found.append(Server(
                f"bentoml ({cls.lower()})", [bento, "serve", f"_serving_bento:{cls}", "--port", "{port}", "--host", "127.0.0.1", "-q"],
                "/predict", _data, {**common, "PATH": f"{PEERS_PY.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
            ))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", default="8,64")
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--only", default="", help="comma-separated server name prefixes")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    connections = [int(c) for c in args.connections.split(",")]
    sizes = [int(r) for r in args.rows.split(",")]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="steward-bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        steward_env = steward_store(tmp)
        mlflow_dir = None
        if MLFLOW_PY.exists():
            mlflow_dir = tmp / "mlflow-model"
            subprocess.run([str(MLFLOW_PY), str(HERE / "_serving_mlflow.py"), str(mlflow_dir)], check=True, cwd=HERE, capture_output=True)
        predict_ms, bare_predict_ms = in_process_predict_ms(steward_env)
        overhead: dict[str, float] = {}
        for server in servers(args.workers, steward_env, mlflow_dir):
            if args.only and not any(server.name.startswith(p) for p in args.only.split(",")):
                continue
            port = free_port()
            proc = start(server, port, tmp / f"{server.name.split()[0]}-{port}.log")
            try:
                url = f"http://127.0.0.1:{port}{server.path}"
                for rows in sizes:
                    body = server.body(request_rows(rows))
                    wrk(url, body, 8, 1.0, tmp / "warm.lua")  # warm-up: imports, first batches, caches
                    for conns in connections:
                        rps, p50, p99, errors = wrk(url, body, conns, args.duration, tmp / "load.lua")
                        result = Result(server.name, conns, rows, rps, p50, p99, errors, rss_mb(proc))
                        results.append(result)
                        print(f"{server.name:28s} c={conns:<3d} rows={rows:<4d} {rps:9.0f} req/s  p50 {p50:8.2f} ms  "
                              f"p99 {p99:8.2f} ms  errors {errors:<5d} rss {result.rss_mb:7.0f} MB", flush=True)
                if server.name == "steward":
                    _, p50, _, _ = wrk(url, server.body(request_rows(1)), 1, min(args.duration, 5.0), tmp / "one.lua")
                    overhead = {"in_process_predict_ms": predict_ms, "bare_estimator_predict_ms": bare_predict_ms,
                                "steward_p50_one_connection_ms": p50, "overhead_ms": p50 - predict_ms,
                                "overhead_over_estimator_ms": p50 - bare_predict_ms}
            finally:
                stop(proc)
    print()
    if overhead:
        print(f"in-process steward predict (1 row, checked): {overhead['in_process_predict_ms']:.3f} ms; "
              f"bare estimator: {overhead['bare_estimator_predict_ms']:.3f} ms")
        print(f"steward over HTTP, 1 connection, p50: {overhead['steward_p50_one_connection_ms']:.3f} ms "
              f"-> over steward.models.load(...).predict: {overhead['overhead_ms']:+.3f} ms; "
              f"over the bare estimator: {overhead['overhead_over_estimator_ms']:+.3f} ms per request (the whole HTTP round trip)")
    ratios = _ratios(results)
    for line in ratios:
        print(line)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"results": [asdict(r) for r in results], "overhead": overhead, "ratios": ratios}, indent=2))


def _ratios(results: list[Result]) -> list[str]:
    def rps(name: str, conns: int = 64, rows: int = 1) -> float | None:
        return next((r.rps for r in results if r.server == name and r.connections == conns and r.rows == rows), None)

    lines = []
    ours = rps("steward")
    if ours is None:
        return lines
    for peer in ("steward (uvicorn)", "bare starlette (uvicorn)", "bare starlette (granian)", "mlflow models serve", "bentoml (plain)", "bentoml (batched)"):
        theirs = rps(peer)
        if theirs:
            lines.append(f"steward / {peer} at 64 connections, 1 row: {ours / theirs:.2f}x")
    p99 = next((r.p99_ms for r in results if r.server == "steward" and r.connections == 64 and r.rows == 1), None)
    if p99 is not None:
        lines.append(f"steward p99 at 64 connections, 1 row: {p99:.1f} ms")
    return lines


if __name__ == "__main__":
    main()
