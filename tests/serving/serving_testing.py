"""Helpers for the serving tests: a registered model in a fresh store, a real ``steward serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from steward import Client, Settings
from steward.pyfunc import PythonModel

FEATURES = [f"f{i}" for i in range(5)]


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
        "STEWARD_USER": "server",
        "STEWARD_CAPTURE_GIT": "false",
    }


def training_frame(rows: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Five float features and an int count; a binary target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    frame["count"] = rng.integers(0, 10, rows)
    target = ((frame["f0"] + frame["f1"] - 0.1 * frame["count"]) > 0).astype(int)
    return frame, target


def register(settings: Settings, model: Any, example: pd.DataFrame, name: str = "fraud") -> int:  # Any: an estimator
    client = Client(settings)
    try:
        with client.start_run("serving-tests") as run:
            logged = run.log_model(model, name, input_example=example.head(5), registered_model_name=name)
        return int(logged.registered.version)
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """A real ``steward serve`` process on a free loopback port."""

    def __init__(self, args: list[str], env: dict[str, str], *, wait: float = 90.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env.get("STEWARD_HOME", ".")) / f"serve-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "steward", "serve", *args, "--host", "127.0.0.1", "--port", str(self.port)],
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

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return int(self.proc.returncode)


class Exploding(PythonModel):
    """A candidate that raises on every request (it answers only its 5-row input example,
    so that it can be logged with a signature)."""

    def predict(self, model_input: Any) -> Any:  # Any: DataFrame in, predictions out
        if len(model_input) != 5:
            raise RuntimeError("the candidate exploded")
        return np.zeros(len(model_input), dtype=np.int64)


class Sluggish(PythonModel):
    """A candidate that takes 200 ms per request (its 5-row input example is answered at once)."""

    def predict(self, model_input: Any) -> Any:  # Any: DataFrame in, predictions out
        if len(model_input) != 5:
            time.sleep(0.2)
        return np.zeros(len(model_input), dtype=np.int64)
