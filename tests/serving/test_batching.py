"""Adaptive micro-batching: shared predict calls, never past the batch size or the wait bound."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from steward.serving._batching import Inflow, MicroBatcher
from steward.serving._payloads import Rows


class Model:
    """A model that records the size of every batch it is given and doubles column 0."""

    def __init__(self, seconds: float = 0.0, fail: bool = False) -> None:
        self.sizes: list[int] = []
        self.seconds = seconds
        self.fail = fail

    def __call__(self, rows: Rows) -> np.ndarray:
        assert rows.matrix is not None
        self.sizes.append(rows.n)
        if self.seconds:
            time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("model exploded")
        return rows.matrix[:, 0] * 2


def _row(value: float, n: int = 1) -> Rows:
    return Rows(n, matrix=np.full((n, 3), value))


async def _request(batcher: MicroBatcher, inflow: Inflow, value: float) -> np.ndarray:
    inflow.start()  # as the server does while it reads and checks the body
    await asyncio.sleep(0)
    inflow.done()
    out = await batcher.predict(_row(value))
    assert isinstance(out, np.ndarray)
    return out


def test_concurrent_single_row_requests_share_predict_calls_and_never_exceed_the_batch_size() -> None:
    model = Model(seconds=0.002)

    async def main() -> list[np.ndarray]:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=8, max_wait_s=0.05, inflow=inflow)
        results = await asyncio.gather(*(_request(batcher, inflow, float(i)) for i in range(200)))
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert [r.tolist() for r in results] == [[2.0 * i] for i in range(200)]  # each caller gets its own row back
    assert sum(model.sizes) == 200
    assert max(model.sizes) <= 8
    assert len(model.sizes) <= 200 / 4  # shared: on average at least four rows per call


def test_a_request_is_held_at_most_the_max_wait_while_another_is_still_being_read() -> None:
    model = Model()

    async def main() -> float:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=8, max_wait_s=0.1, inflow=inflow)
        inflow.start()  # a slow client: its body never finishes arriving during this test
        started = time.perf_counter()
        await batcher.predict(_row(1.0))
        elapsed = time.perf_counter() - started
        inflow.done()
        await batcher.close()
        return elapsed

    elapsed = asyncio.run(main())
    assert 0.09 <= elapsed < 1.0  # the bound, plus slack for a loaded machine
    assert model.sizes == [1]


def test_a_lone_request_is_not_held_when_nothing_else_is_arriving() -> None:
    model = Model()

    async def main() -> float:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=8, max_wait_s=5.0, inflow=inflow)
        started = time.perf_counter()
        await batcher.predict(_row(1.0))
        elapsed = time.perf_counter() - started
        await batcher.close()
        return elapsed

    assert asyncio.run(main()) < 2.5  # far below the 5 s it could have been held


def test_a_request_larger_than_the_batch_size_runs_alone() -> None:
    model = Model(seconds=0.01)

    async def main() -> None:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=8, max_wait_s=0.01, inflow=inflow)
        big, *small = await asyncio.gather(batcher.predict(_row(1.0, n=20)), *(batcher.predict(_row(2.0)) for _ in range(10)))
        assert len(big) == 20 and all(len(s) == 1 for s in small)
        await batcher.close()

    asyncio.run(main())
    assert 20 in model.sizes
    assert all(size <= 8 for size in model.sizes if size != 20)


def test_a_failing_model_fails_every_request_of_its_batch_and_the_next_batch_runs() -> None:
    model = Model(fail=True)

    async def main() -> list[object]:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=8, max_wait_s=0.01, inflow=inflow)
        results = await asyncio.gather(*(batcher.predict(_row(1.0)) for _ in range(5)), return_exceptions=True)
        model.fail = False
        results.append(await batcher.predict(_row(3.0)))
        await batcher.close()
        return list(results)

    results = asyncio.run(main())
    assert all(isinstance(r, RuntimeError) for r in results[:5])
    assert results[5].tolist() == [6.0]  # type: ignore[union-attr]


@pytest.mark.parametrize("max_batch", [1, 3])
def test_the_batch_size_bound_holds_for_any_setting(max_batch: int) -> None:
    model = Model(seconds=0.001)

    async def main() -> None:
        inflow = Inflow()
        batcher = MicroBatcher(model, max_batch=max_batch, max_wait_s=0.05, inflow=inflow)
        await asyncio.gather(*(_request(batcher, inflow, 1.0) for _ in range(40)))
        await batcher.close()

    asyncio.run(main())
    assert sum(model.sizes) == 40 and max(model.sizes) <= max_batch
