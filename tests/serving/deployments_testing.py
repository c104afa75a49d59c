"""Helpers of the deployment and rollout tests (a module of its own: test files import it by name):
registered versions of ``fraud`` in every state a deployment must accept or refuse, and stats
windows as serving processes report them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from steward import Client
from steward.core.traffic import LATENCY_BUCKETS_MS, VariantStats
from steward.wiring import Services


@dataclass(frozen=True, slots=True)
class Versions:
    """``fraud`` versions: v1 and v2 approved (v1 is @champion), v3 unapproved, v4 retired,
    v5 approved but its gate failed."""

    approved: int = 1
    challenger: int = 2
    unapproved: int = 3
    retired: int = 4
    gate_failed: int = 5


def register_versions(client: Client, services: Services, count: int = 5) -> Versions:
    """Register ``count`` versions of ``fraud`` and put them in the states of :class:`Versions`."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    label = (frame["amount"] > 0).astype(int)
    model = LogisticRegression().fit(frame, label)
    with client.start_run("serving-tests") as run:
        for _ in range(count):
            run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    registry = services.registry("reviewer")
    for v in (1, 2, 4, 5):
        if v <= count:
            registry.approve("fraud", v, comment="looks good")
    registry.set_alias("fraud", "champion", 1)
    if count >= 4:
        registry.retire("fraud", 4, comment="superseded")
    if count >= 5:
        _fail_gate(services, "fraud", 5)
    return Versions()


def _fail_gate(services: Services, name: str, version: int) -> None:
    from steward.adapters.sql._evaluation_store import SqlEvaluationStore
    from steward.evaluation._gates import GateCheck
    from steward.evaluation._types import GateRecord
    from steward.tracking import AuditEvent

    check = GateCheck("min.roc_auc", False, 0.61, 0.85, "roc_auc 0.61 is below 0.85")
    record = GateRecord(0, name, version, "datasets:/holdout/1", "min: {roc_auc: 0.85}", "0" * 64, None, False, [check], None, None, 0, "ci")
    SqlEvaluationStore(services.store).add_gate_result(record, AuditEvent("ci", "gate.run", f"models:/{name}/{version}", 0))


def latency_counts(ms: float, n: int) -> tuple[int, ...]:
    """A histogram of ``n`` requests that all took about ``ms`` milliseconds."""
    counts = [0] * len(LATENCY_BUCKETS_MS)
    for i, bound in enumerate(LATENCY_BUCKETS_MS):
        if ms <= bound:
            counts[i] = n
            break
    return tuple(counts)


def window(
    deployment: str, revision: int, variant: str, model: str, *, requests: int, errors: int = 0, ms: float = 3.0,
    end_ms: int | None = None,
) -> VariantStats:
    """One replica's window of one variant, ending now (as the server reports it)."""
    end = end_ms if end_ms is not None else int(time.time() * 1000)
    return VariantStats(deployment, revision, variant, model, end - 1000, end, requests, errors, latency_counts(ms, requests))


def report(services: Services, plan_windows: Sequence[VariantStats]) -> None:
    """Report windows through the service, as every serving process does."""
    services.deployments("server").record_stats(plan_windows)
