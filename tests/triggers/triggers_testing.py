"""Helpers of the trigger tests (imported by name): a pipeline file that records its inputs,
a registered model, and a prediction log window with labels."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from steward import Client
from steward.core.predictions import PredictionBatch
from steward.settings import Settings
from steward.wiring import Services

NOW = 1_780_000_000_000
HOUR = 3_600_000

PIPELINE = '''
from __future__ import annotations

import steward

@steward.step
def take(value: str) -> str:
    if value.startswith("boom"):
        raise ValueError("the step failed on purpose")
    return value

@steward.pipeline
def retrain(data: str = "", model: str = "", c: float = 1.0):
    return take(f"{data}|{model}|{c}")
'''


def pipeline_file(root: Path) -> Path:
    path = root / "retrain.py"
    path.write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    return path


def frame(rows: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.normal(100.0, 10.0, rows), "label": rng.integers(0, 2, rows)})


def register_model(settings: Settings, name: str = "fraud", versions: int = 1) -> None:
    """``versions`` versions of ``name`` (a tiny scikit-learn model)."""
    from sklearn.linear_model import LogisticRegression

    data = frame(60)
    model = LogisticRegression().fit(data[["amount"]], data["label"])
    client = Client(settings.model_copy(update={"capture_packages": False, "tracking_uri": None}))
    try:
        with client.start_run("trigger-tests") as run:
            for _ in range(versions):
                run.log_model(model, name, input_example=data[["amount"]].head(3), registered_model_name=name)
    finally:
        client.close()


def log_window(services: Services, *, rows: int = 40, start_ms: int = NOW - HOUR, deployment: str = "fraud-api") -> None:
    """``rows`` logged predictions in the hour from ``start_ms``, each with its delayed label."""
    rng = np.random.default_rng(3)
    amount = rng.normal(100.0, 10.0, rows)
    output = (amount > 100).astype(int)
    log = services.prediction_log()
    ids: list[str] = []
    positions: list[int] = []
    for n, lo in enumerate(range(0, rows, 10)):
        hi = min(rows, lo + 10)
        request = f"req-{n}"
        log.append(PredictionBatch(
            request_id=request, deployment=deployment, model_name="fraud", model_version=1, variant="primary",
            inputs={"amount": amount[lo:hi].tolist()}, outputs=output[lo:hi].tolist(), latency_ms=3.0,
            timestamp_ms=start_ms + n * 60_000,
        ))
        ids += [request] * (hi - lo)
        positions += list(range(hi - lo))
    assert log.flush()
    labels = pa.table({"request_id": ids, "row": positions, "label": (1 - output).tolist()})
    services.predictions("dana").ingest_labels(deployment, labels, source="test")
