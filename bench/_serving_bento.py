"""BentoML 1.4 services of the benchmark's model (run in bench/.venv-peers): one plain, one
with BentoML's adaptive batching. ``{"data": [[20 floats], ...]}`` in, predictions out."""

from __future__ import annotations

import os

import bentoml
import numpy as np
from _serving_model import fitted

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


@bentoml.service(workers=WORKERS)
class Plain:
    def __init__(self) -> None:
        self.model = fitted(frame=False)

    @bentoml.api
    def predict(self, data: np.ndarray) -> np.ndarray:
        return self.model.predict(data)


@bentoml.service(workers=WORKERS)
class Batched:
    def __init__(self) -> None:
        self.model = fitted(frame=False)

    @bentoml.api(batchable=True, max_batch_size=64, max_latency_ms=1_000)
    def predict(self, data: np.ndarray) -> np.ndarray:
        return self.model.predict(data)
