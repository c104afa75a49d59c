"""Helpers of the stewardship tests (a module of its own: test files import it by name): a
small fraud dataset registered as dataset versions, models registered from it, a real
``steward serve`` process and a traffic loop against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Self

import httpx
import numpy as np
import pandas as pd

from steward import Client, Settings

FEATURES = ["amount", "age", "hour"]
ROLLOUT = """
steps: [20, 60, 100]
min_requests: 15
min_duration: 1s
rollback_min_requests: 10
interval: 0.5s
bounds:
  max_error_rate_ratio: 2.0
  max_error_rate_delta: 0.05
  max_p99_ratio: 50.0
  max_p99_delta_ms: 2000
"""
SERVE_ENV = {"STEWARD_SERVE_PLAN_INTERVAL": "0.2", "STEWARD_SERVE_STATS_INTERVAL": "0.3", "STEWARD_ROLLOUT_INTERVAL": "0.5"}


def store_settings(root: Path) -> Settings:
    return Settings(
        home=root / "home", database_url=f"sqlite:///{root / 'steward.db'}", artifact_root=str(root / "artifacts"),
        user="tester", capture_git=False, capture_packages=False, auth="off",
    )


def store_env(settings: Settings) -> dict[str, str]:
    return {
        "STEWARD_HOME": str(settings.home),
        "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(),
        "STEWARD_USER": "tester",
        "STEWARD_CAPTURE_GIT": "false",
        "STEWARD_CAPTURE_PACKAGES": "false",
        "STEWARD_AUTH": "off",
    }


def fraud_frame(rows: int = 240, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """Three features and a binary ``label`` that depends on two of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"amount": rng.normal(shift, 1, rows), "age": rng.normal(0, 1, rows), "hour": rng.integers(0, 24, rows).astype(float)})
    frame["label"] = ((frame["amount"] + 0.5 * frame["age"]) > shift).astype(int)
    return frame


def register_dataset(settings: Settings, name: str, frame: pd.DataFrame, folder: Path) -> str:
    """Register ``frame`` as a new version of dataset ``name``; its reference."""
    from steward.wiring import build_services

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{len(list(folder.iterdir()))}.csv"
    frame.to_csv(path, index=False)
    services = build_services(settings)
    try:
        return str(services.data("tester").register(name, str(path)).ref)
    finally:
        services.close()


def register_model(settings: Settings, model: Any, frame: pd.DataFrame, name: str = "fraud") -> int:  # Any: an estimator
    client = Client(settings)
    try:
        with client.start_run("stewardship-tests") as run:
            logged = run.log_model(model, "model", input_example=frame[FEATURES].head(5), registered_model_name=name)
        assert logged.registered is not None
        return int(logged.registered.version)
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """A real ``steward serve --deployment NAME`` process on a free loopback port."""

    def __init__(self, deployment: str, env: dict[str, str], *, port: int | None = None, wait: float = 90.0) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["STEWARD_HOME"]) / f"serve-{self.port}-{time.monotonic_ns()}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "steward", "serve", "--deployment", deployment, "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env={**os.environ, **env}, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._out.close()
                raise RuntimeError(f"steward serve exited early: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"steward serve not ready in {wait} s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the server and its workers): no graceful stop, no lease released."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._out.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._out.closed:
            self._out.close()
        return int(self.proc.returncode)


class Traffic:
    """Single-row /predict requests in a loop on a thread; answers counted per model version."""

    def __init__(self, url: str, rows: list[dict[str, Any]]) -> None:  # Any: JSON values
        self.url, self.rows = url, rows
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        i = 0
        with httpx.Client(base_url=self.url, timeout=10) as http:
            while not self.stop_event.is_set():
                try:
                    resp = http.post("/predict", json=[self.rows[i % len(self.rows)]])
                    if resp.status_code == 200:
                        self.answers[resp.headers.get("x-steward-model-version", "?")] += 1
                    else:
                        self.failures.append(f"HTTP {resp.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    time.sleep(0.05)
                i += 1

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=20)
