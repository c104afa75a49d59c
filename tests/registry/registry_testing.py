"""Helpers for the registry tests (a module of its own: test files import it by name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steward import Client

SRC = str(Path(__file__).resolve().parents[2] / "src")


def training_frame(rows: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A small binary task with a float, an int and a second float column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"amount": rng.normal(100, 30, rows), "count": rng.integers(0, 10, rows), "score": rng.random(rows)}
    )
    target = ((frame["amount"] > 100) ^ (frame["score"] > 0.7)).astype(int)
    return frame, target


def fitted_logistic() -> tuple[Any, pd.DataFrame]:  # Any: a fitted estimator
    from sklearn.linear_model import LogisticRegression

    frame, target = training_frame()
    return LogisticRegression(max_iter=500).fit(frame, target), frame


def log_and_register(client: Client, model: object, example: pd.DataFrame, name: str = "fraud", **kwargs: Any) -> Any:  # Any: ModelVersion
    """Log ``model`` in a finished run and register it; return the new version."""
    with client.start_run("registry-tests") as run:
        run.log_metric("auc", 0.9)
        logged = run.log_model(model, name, input_example=example.head(5), registered_model_name=name, **kwargs)
    return logged.registered


def predict_in_fresh_process(code: str, env: dict[str, str], extra_path: str | None = None) -> Any:  # Any: JSON
    """Run ``code`` (which prints one JSON document) in a new interpreter and parse it."""
    path = os.pathsep.join(p for p in (SRC, extra_path, os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def store_env(client: Client) -> dict[str, str]:
    """Environment that points a fresh process at the same embedded store as ``client``."""
    s = client.settings
    return {
        "STEWARD_HOME": str(s.home),
        "STEWARD_DATABASE_URL": s.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": s.resolved_artifact_root(),
        "STEWARD_USER": "fresh",
        "STEWARD_CAPTURE_GIT": "false",
    }
