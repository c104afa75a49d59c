"""Helpers of the monitor tests (imported by name): a deployment of ``fraud`` trained on
``transactions:1`` (its lineage), and a prediction log filled with chosen traffic."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from steward import Client
from steward.core.predictions import PredictionBatch
from steward.settings import Settings
from steward.wiring import Services

HOUR_MS = 3_600_000
# a fixed "now" of the tests: windows are [NOW - 1h, NOW)
NOW = 1_780_000_000_000


def reference_frame(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Training data: ``amount`` ~ N(100, 10), ``country`` of three, ``group`` of two, and the label."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0, 10.0, rows)
    return pd.DataFrame(
        {
            "amount": amount,
            "country": rng.choice(["fr", "de", "es"], rows),
            "group": rng.choice(["a", "b"], rows),
            "label": (amount > 100).astype(int),
        }
    )


def build_deployment(services: Services, settings: Settings, *, project: str | None = None) -> None:
    """``transactions:1`` registered, ``fraud:1`` trained on it (approved), deployed as ``fraud-api``."""
    from sklearn.linear_model import LogisticRegression

    frame = reference_frame()
    services.data("dana").register("transactions", frame, **({"project": project} if project else {}))
    client = Client(settings.model_copy(update={"capture_packages": False, "tracking_uri": None, **({"project": project} if project else {})}))
    try:
        with client.start_run("monitor-tests") as run:
            run.log_input("transactions:1")
            model = LogisticRegression().fit(frame[["amount"]], frame["label"])
            run.log_model(model, "fraud", input_example=frame[["amount"]].head(3), registered_model_name="fraud")
    finally:
        client.close()
    services.registry("reviewer").approve("fraud", 1, comment="ok")
    services.deployments("dana").create_deployment("fraud-api", "fraud:1")


def log_traffic(
    services: Services,
    *,
    rows: int,
    start_ms: int = NOW - HOUR_MS,
    shift: float = 0.0,
    flip: Callable[[np.ndarray], np.ndarray] | None = None,
    label: bool = True,
    seed: int = 1,
    latency_ms: float = 4.0,
    cpu_ms: float | None = None,
) -> None:
    """``rows`` predictions spread over the hour from ``start_ms``, 10 rows per request;
    the output is ``amount > 100``; labels (when asked) equal the output except where ``flip`` says."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0 + shift, 10.0, rows)
    country = rng.choice(["fr", "de", "es"], rows)
    group = rng.choice(["a", "b"], rows)
    output = (amount > 100).astype(int)
    log = services.prediction_log()
    step = max(1, HOUR_MS // max(1, rows // 10 + 1))
    ids: list[str] = []
    rows_of: list[int] = []
    for n, lo in enumerate(range(0, rows, 10)):
        hi = min(rows, lo + 10)
        request = f"req-{seed}-{n}"
        log.append(
            PredictionBatch(
                request_id=request, deployment="fraud-api", model_name="fraud", model_version=1, variant="primary",
                inputs={"amount": amount[lo:hi].tolist(), "country": country[lo:hi].tolist(), "group": group[lo:hi].tolist()},
                outputs=output[lo:hi].tolist(), latency_ms=latency_ms, timestamp_ms=start_ms + n * step,
                cpu_ms=cpu_ms,
            )
        )
        ids += [request] * (hi - lo)
        rows_of += list(range(hi - lo))
    assert log.flush()
    if label:
        truth = output.copy()
        if flip is not None:
            mask = flip(amount)
            truth[mask] = 1 - truth[mask]
        table = pa.table({"request_id": ids, "row": rows_of, "label": truth.tolist()})
        services.predictions("dana").ingest_labels("fraud-api", table, source="test")
