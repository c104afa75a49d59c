"""CPU time measured around the model call, shared by a batch's requests, logged with the
predictions and priced by the monitor's cost (no estimate from wall time)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pyarrow as pa
import pytest

from steward.core.predictions import PredictionBatch
from steward.monitoring._health import health
from steward.predictions._segments import SegmentBuffer
from steward.serving._batching import Inflow, MicroBatcher
from steward.serving._payloads import Rows


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class Model:
    def __init__(self, *, burn: float = 0.0, sleep: float = 0.0) -> None:
        self.burn, self.sleep = burn, sleep

    def __call__(self, rows: Rows) -> np.ndarray:
        assert rows.matrix is not None
        _burn(self.burn)
        time.sleep(self.sleep)
        return rows.matrix[:, 0]


def _measure(model: Model, sizes: list[int]) -> list[float]:
    async def main() -> list[float]:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=64, max_wait_s=0.05, inflow=inflow)
        inflow.start()  # requests are being read: the batcher waits for all of them
        tasks = [asyncio.create_task(batcher.predict_measured(Rows(n, matrix=np.ones((n, 2))))) for n in sizes]
        await asyncio.sleep(0)
        inflow.done()
        answers = await asyncio.gather(*tasks)
        await batcher.close()
        return [cpu for _, cpu in answers]

    return asyncio.run(main())


def test_cpu_time_is_measured_not_wall_time() -> None:
    busy = _measure(Model(burn=0.05), [1])[0]
    idle = _measure(Model(sleep=0.05), [1])[0]
    assert 0.04 < busy < 0.2
    assert idle < 0.01  # 50 ms of waiting costs (almost) no CPU


def test_a_batchs_cpu_time_is_shared_by_its_requests_by_rows() -> None:
    shares = _measure(Model(burn=0.06), [1, 2, 3])
    assert 0.05 < sum(shares) < 0.3
    assert shares[1] == pytest.approx(2 * shares[0], rel=1e-6) and shares[2] == pytest.approx(3 * shares[0], rel=1e-6)


def _table(batches: list[PredictionBatch]) -> pa.Table:
    buffer = SegmentBuffer("fraud-api")
    for b in batches:
        buffer.add(b, log_inputs=False)
    return buffer.to_table()


def _batch(i: int, rows: int, cpu_ms: float | None, latency_ms: float = 50.0) -> PredictionBatch:
    return PredictionBatch(f"r{i}", "fraud-api", "fraud", 1, "primary", None, [0] * rows, latency_ms, 1_000 + i, cpu_ms=cpu_ms)


def test_the_log_carries_cpu_time_per_row_and_the_cost_uses_it() -> None:
    table = _table([_batch(i, 4, cpu_ms=2.0) for i in range(100)])  # 100 requests of 4 rows, 2 CPU-ms each
    assert table.column("cpu_ms").to_pylist()[:4] == [0.5] * 4
    cost = health(table, 3600, requests_and_errors=None, price_per_cpu_hour=0.09)["cost"]
    assert cost["cpu_seconds"] == pytest.approx(0.2)  # not the 5 s of wall time
    assert cost["cpu_seconds_source"] == "prediction_log" and cost["measured_rows"] == 400
    assert cost["per_1000_predictions"] == pytest.approx(0.2 / 3600 * 0.09 / 400 * 1000)


def test_rows_without_a_measurement_are_not_priced_by_an_estimate() -> None:
    mixed = _table([_batch(0, 10, cpu_ms=None), _batch(1, 10, cpu_ms=3.0)])
    cost = health(mixed, 60, requests_and_errors=None, price_per_cpu_hour=1.0)["cost"]
    assert cost["measured_rows"] == 10 and cost["cpu_seconds"] == pytest.approx(0.003)
    unmeasured = health(_table([_batch(0, 10, cpu_ms=None)]), 60, requests_and_errors=None, price_per_cpu_hour=1.0)["cost"]
    assert unmeasured["per_1000_predictions"] is None and unmeasured["cpu_seconds"] is None and unmeasured["note"]
