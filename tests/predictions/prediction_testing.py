"""Helpers of the prediction log tests (imported by name, like evaluation_testing)."""

from __future__ import annotations

from steward.core.predictions import PredictionBatch


def batch(
    i: int, at_ms: int, *, deployment: str = "fraud-api", rows: int = 1, version: int = 1, variant: str = "primary", shadow: bool = False
) -> PredictionBatch:
    """Request ``req-<i>``: ``rows`` rows with two inputs, answered ``i % 2``."""
    return PredictionBatch(
        request_id=f"req-{i}",
        deployment=deployment,
        model_name="fraud",
        model_version=version,
        variant=variant,
        inputs={"amount": [float(i) + r / 10 for r in range(rows)], "country": ["fr"] * rows},
        outputs=[i % 2] * rows,
        latency_ms=2.5,
        timestamp_ms=at_ms,
        shadow=shadow,
    )
