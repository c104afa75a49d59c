"""``ActiveRun.log_metrics`` buffers a step's metrics in one go, as as many ``log_metric`` calls would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from steward import Client, Settings
from steward.errors import ConflictError, InvalidInputError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    c = Client(Settings(home=tmp_path / "home", user="tester", capture_git=False, capture_packages=False))
    yield c
    c.close()


def _history(client: Client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_log_metrics_without_a_step_continues_each_keys_own_steps(client: Client) -> None:
    with client.start_run("batch") as run:
        run.log_metric("a", 1.0)
        run.log_metrics({"a": 2.0, "b": 3})
        run.log_metrics({"a": 4.0, "b": 5.0})
    assert _history(client, run.run_id, "a") == [(0, 1.0), (1, 2.0), (2, 4.0)]
    assert _history(client, run.run_id, "b") == [(0, 3.0), (1, 5.0)]


def test_log_metrics_at_a_step_moves_the_default_step_past_it(client: Client) -> None:
    with client.start_run("batch") as run:
        run.log_metrics({"a": 1.0}, step=7)
        run.log_metric("a", 2.0)
        run.log_metrics({"a": 3.0}, step=np.int64(20))  # type: ignore[arg-type]  # numpy integers are steps too
    assert _history(client, run.run_id, "a") == [(7, 1.0), (8, 2.0), (20, 3.0)]
    assert all(type(m.step) is int for m in client.get_metric_history(run.run_id, "a"))


def test_an_invalid_value_keeps_the_points_logged_before_it_as_single_calls_would(client: Client) -> None:
    with client.start_run("batch") as run:
        with pytest.raises(InvalidInputError):
            run.log_metrics({"a": 1.0, "b": "high", "c": 3.0}, step=0)  # type: ignore[dict-item]
        run.log_metrics({"b": 2.0, "c": 4.0}, step=1)
    assert _history(client, run.run_id, "a") == [(0, 1.0)]
    assert _history(client, run.run_id, "b") == [(1, 2.0)]
    assert _history(client, run.run_id, "c") == [(1, 4.0)]


def test_log_metrics_on_an_ended_run_is_refused(client: Client) -> None:
    run = client.start_run("batch")
    run.end()
    with pytest.raises(ConflictError):
        run.log_metrics({"a": 1.0}, step=0)
