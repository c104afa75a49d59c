"""A monitor compares embedding inputs of the prediction log: lists of floats by type, lists of
integers when declared (``embeddings=``), on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from monitor_testing import HOUR_MS, NOW, build_deployment

from steward.core.predictions import PredictionBatch
from steward.errors import InvalidInputError
from steward.settings import Settings
from steward.wiring import Services


def _log(services: Services, start: int, *, shift: float, seed: int, requests: int = 60) -> None:
    rng = np.random.default_rng(seed)
    log = services.prediction_log()
    for n in range(requests):
        vec = (rng.normal(size=(10, 4)) + shift).tolist()
        codes = rng.integers(0, 3, size=(10, 3)).tolist()
        log.append(PredictionBatch(
            f"emb-{seed}-{n}", "fraud-api", "fraud", 1, "primary",
            {"vec": vec, "codes": codes, "amount": rng.normal(100, 10, 10).tolist()}, [0] * 10, 3.0,
            start + n * (HOUR_MS // requests), cpu_ms=0.5,
        ))
    assert log.flush()


def test_embedding_inputs_are_compared_by_mmd_and_a_moved_one_drifts(services: Services, settings: Settings) -> None:
    build_deployment(services, settings)
    monitors = services.monitors("dana")
    _log(services, NOW - 2 * HOUR_MS, shift=0.0, seed=1)
    _log(services, NOW - HOUR_MS, shift=0.6, seed=2)
    created = monitors.create_monitor(
        "emb", "fraud-api", reference_window=f"{NOW - 2 * HOUR_MS}/{NOW - HOUR_MS}", embeddings=["codes"]
    )
    assert created.to_dict()["embeddings"] == ["codes"]
    result = monitors.run_monitor("emb", now=NOW)
    columns = {c["column"]: c for c in result.summary["drift"]["columns"]}
    assert columns["vec"]["kind"] == "embedding" and columns["vec"]["method"] == "mmd" and columns["vec"]["drifted"]
    assert columns["vec"]["embedding"]["dimensions"] == 4
    assert columns["codes"]["kind"] == "embedding" and columns["codes"]["status"] == "ok" and not columns["codes"]["drifted"]
    assert result.status == "drift" and "vec" in result.summary["drift"]["drifted"]
    with pytest.raises(InvalidInputError):
        monitors.create_monitor("emb2", "fraud-api", reference="transactions:1", embeddings=["x" * 300])
