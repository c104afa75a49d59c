"""The prediction log: written off the request path, read back by window with labels joined."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

import pyarrow as pa
import pytest
from prediction_testing import batch

from steward.adapters.artifacts._segment_files import PrefixFiles
from steward.core.predictions import PredictionBatch
from steward.errors import IntegrityError, InvalidInputError
from steward.predictions import PredictionLog
from steward.wiring import Services

HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_predictions_are_read_back_by_window_with_labels_joined(log_services: Services) -> None:
    log = log_services.prediction_log()
    assert log_services.prediction_log() is log  # one log per process
    for i in range(10):
        log.append(batch(i, T0 + i * 1000, rows=2))
    log.append(batch(99, T0 + 5000, deployment="other-api"))
    log.append(PredictionBatch("req-vec", "fraud-api", "fraud", 2, "shadow", {"amount": [1.0]}, [[0.2, 0.8]], 3.0, T0 + 20_000, shadow=True))
    assert log.flush()
    service = log_services.predictions("tester")
    report = service.ingest_labels("fraud-api", pa.table({"request_id": ["req-1", "req-2"], "label": [1, 0]}))
    assert (report.attached, report.unknown) == (2, 0)

    frame = service.read("fraud-api", T0 + 1000, T0 + 3000).to_pandas()

    assert list(frame["request_id"]) == ["req-1", "req-1", "req-2", "req-2"]
    assert list(frame["row"]) == [0, 1, 0, 1]
    assert list(frame["input.amount"]) == [1.0, 1.1, 2.0, 2.1]
    assert list(frame["input.country"]) == ["fr"] * 4
    assert list(frame["output"]) == [1, 1, 0, 0]
    assert list(frame["label"]) == [1, 1, 0, 0]
    assert set(frame["deployment"]) == {"fraud-api"}
    assert str(frame["timestamp"].dt.tz) == "UTC" and frame["timestamp"].iloc[0].value // 1_000_000 == T0 + 1000
    whole = service.read("fraud-api").to_pandas()
    assert len(whole) == 21 and whole["label"].notna().sum() == 4
    vector = whole[whole["request_id"] == "req-vec"].iloc[0]
    assert (vector["output.0"], vector["output.1"], bool(vector["shadow"]), vector["variant"]) == (0.2, 0.8, True, "shadow")
    assert service.read("other-api").num_rows == 1


def test_the_index_prunes_segments_outside_the_window(log_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(log_services)
    for hour in range(3):
        log.append(batch(hour, T0 + hour * HOUR))
        assert log.flush()
    service = log_services.predictions()
    segments = service.list_segments("fraud-api")
    assert [s.min_time for s in segments] == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert all(s.path.startswith("predictions/fraud-api/2026-01-01/") and s.path.endswith(".parquet") for s in segments)
    assert segments[0].schema["input.amount"] == "double" and segments[0].rows == 1

    files = PrefixFiles.beside(log_services.blobs)
    for gone in (segments[0], segments[2]):
        files.fs.rm(f"{files._base}/{gone.path}")

    # only the middle segment is opened: the others are gone, and a window that needs them says so
    assert service.read("fraud-api", T0 + HOUR, T0 + HOUR + 1).column("request_id").to_pylist() == ["req-1"]
    with pytest.raises(IntegrityError, match="missing"):
        service.read("fraud-api")


def test_segments_rotate_by_rows(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, max_rows=10)
    for i in range(35):
        log.append(batch(i, T0 + i))
    assert log.flush()
    assert [s.rows for s in local_services.predictions().list_segments("fraud-api")] == [10, 10, 10, 5]
    assert log.stats().segments_written == 4 and log.stats().rows_written == 35


def test_segments_rotate_by_estimated_size(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, max_bytes=2_000)
    for i in range(40):
        log.append(batch(i, T0 + i, rows=5))
    assert log.flush()
    rows = [s.rows for s in local_services.predictions().list_segments("fraud-api")]
    assert sum(rows) == 200 and len(rows) >= 4
    assert max(rows) <= 25  # a segment closes on the batch that crosses the bound


def test_long_text_inputs_count_toward_the_size_bound(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, max_bytes=100_000)
    for i in range(20):
        log.append(PredictionBatch(f"r{i}", "fraud-api", "fraud", 1, "primary", {"note": ["x" * 20_000]}, [1], 1.0, T0 + i))
    assert log.flush()
    assert [s.rows for s in local_services.predictions().list_segments("fraud-api")] == [5, 5, 5, 5]


def test_segments_rotate_by_age_without_a_flush(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, max_seconds=0.3)
    log.append(batch(1, T0))
    deadline = time.monotonic() + 5
    while not local_services.predictions().list_segments("fraud-api") and time.monotonic() < deadline:
        time.sleep(0.05)
    waited = 5 - (deadline - time.monotonic())
    assert local_services.predictions().list_segments("fraud-api"), "no segment written by age"
    assert waited < 2.0


class _StalledFiles:
    """The real segment files behind a gate that holds every write: a store that stopped answering."""

    def __init__(self, inner: PrefixFiles) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def write_atomic(self, path: str, data: bytes) -> None:
        self.gate.wait(30)
        self.inner.write_atomic(path, data)

    def read_bytes(self, path: str) -> bytes:
        return self.inner.read_bytes(path)


def test_appending_never_blocks_a_full_queue_drops_and_counts(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    files = _StalledFiles(PrefixFiles.beside(local_services.blobs))
    log = make_log(local_services, files, max_rows=1, queue_size=50)
    costs = []
    for i in range(2_000):
        started = time.perf_counter()
        log.append(batch(i, T0 + i))
        costs.append(time.perf_counter() - started)
    stats = log.stats()
    files.gate.set()
    assert log.flush()

    assert stats.dropped >= 2_000 - 50 - 2  # the writer holds one batch, the queue 50
    assert stats.dropped + stats.accepted + stats.queued == 2_000
    # a blocked append would wait for the gate (30 s); a busy 2-core machine may still pause
    # any thread for tens of milliseconds, so the bounds leave room for that and no more
    assert max(costs) < 1.0 and statistics.median(costs) < 100e-6, f"slowest append {max(costs) * 1000:.1f} ms"
    print(f"\nappend with a stalled store: median {statistics.median(costs) * 1e6:.2f} us, max {max(costs) * 1e6:.0f} us")
    written = local_services.predictions().read("fraud-api").num_rows
    assert written == log.stats().rows_written == 2_000 - log.stats().dropped


def test_appending_a_twenty_feature_request_costs_microseconds(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, queue_size=100_000)
    features = {f"f{j}": [float(j)] for j in range(20)}
    batches = [PredictionBatch(f"r{i}", "fraud-api", "fraud", 1, "primary", features, [0.5], 1.0, T0 + i) for i in range(20_000)]
    costs = []
    for b in batches:
        started = time.perf_counter_ns()
        log.append(b)
        costs.append(time.perf_counter_ns() - started)
    assert log.flush(60)
    costs.sort()
    p50, p99, mean = costs[len(costs) // 2] / 1000, costs[int(len(costs) * 0.99)] / 1000, statistics.fmean(costs) / 1000
    print(f"\nappend cost per batch (20 features, 1 row): mean {mean:.2f} us, p50 {p50:.2f} us, p99 {p99:.2f} us")
    assert p50 < 50 and log.stats().rows_written == 20_000 and log.stats().dropped == 0


def test_sampling_logs_about_the_configured_fraction(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, sample_rate=0.25)
    for i in range(4_000):
        log.append(batch(i, T0 + i))
    assert log.flush()
    stats = log.stats()
    assert stats.sampled_out + stats.accepted == 4_000
    # binomial(4000, 0.25): sd 27; 6 sd either side
    assert 840 <= stats.rows_written <= 1_160
    assert local_services.predictions().read("fraud-api").num_rows == stats.rows_written


def test_sampling_keeps_or_leaves_a_request_and_its_shadow_together(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, sample_rate=0.5)
    for i in range(400):
        log.append(batch(i, T0 + i))
        log.append(batch(i, T0 + i, variant="shadow", version=2, shadow=True))
    assert log.flush()
    table = local_services.predictions().read("fraud-api")
    counts: dict[str, int] = {}
    for rid in table.column("request_id").to_pylist():
        counts[rid] = counts.get(rid, 0) + 1
    assert set(counts.values()) == {2} and 140 <= len(counts) <= 260


def test_a_sample_rate_of_zero_logs_nothing(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, sample_rate=0.0)
    for i in range(100):
        log.append(batch(i, T0 + i))
    assert log.flush() and log.stats().sampled_out == 100
    assert local_services.predictions().list_segments("fraud-api") == []


def test_inputs_off_leaves_no_input_column_in_the_log(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services, log_inputs=False)
    log.append(batch(1, T0, rows=3))
    assert log.flush()
    table = local_services.predictions().read("fraud-api")
    assert [c for c in table.column_names if c.startswith("input")] == []
    assert table.column("output").to_pylist() == [1, 1, 1]
    assert not any(c.startswith("input") for c in local_services.predictions().list_segments("fraud-api")[0].schema)


def test_a_malformed_batch_is_rejected_and_counted_never_raised(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    log = make_log(local_services)
    log.append(PredictionBatch("r1", "fraud-api", "fraud", 1, "primary", {"a": [1.0, 2.0]}, [1], 1.0, T0))  # 2 inputs, 1 output
    log.append(PredictionBatch("r2", "../etc", "fraud", 1, "primary", None, [1], 1.0, T0))
    log.append(batch(3, T0))
    assert log.flush()
    assert log.stats().rejected == 2 and log.stats().rows_written == 1


def test_closing_the_services_writes_the_open_segment(settings: object, local_services: Services) -> None:
    log = local_services.prediction_log()
    log.append(batch(1, T0))
    log.close()
    log.append(batch(2, T0))  # after close: dropped, not raised
    assert local_services.predictions().read("fraud-api").column("request_id").to_pylist() == ["req-1"]
    assert log.stats().dropped == 1


def test_bad_windows_and_names_are_refused_naming_the_field(local_services: Services) -> None:
    service = local_services.predictions()
    with pytest.raises(InvalidInputError) as bad_time:
        service.read("fraud-api", "yesterday")
    assert bad_time.value.field == "start"
    with pytest.raises(InvalidInputError) as backwards:
        service.read("fraud-api", T0 + 10, T0)
    assert backwards.value.field == "end"
    with pytest.raises(InvalidInputError) as bad_name:
        service.read("../x")
    assert bad_name.value.field == "deployment"
    assert service.read("never-served").num_rows == 0


def test_numpy_columns_vector_and_named_outputs_are_logged_as_columns(local_services: Services, make_log: Callable[..., PredictionLog]) -> None:
    import numpy as np

    log = make_log(local_services)
    inputs = {"amount": np.array([1.5, 2.5]), "country": np.array(["fr", "de"], dtype=object)}
    log.append(PredictionBatch("r-vec", "fraud-api", "fraud", 1, "primary", inputs, np.array([[0.1, 0.9], [0.7, 0.3]]), 1.0, T0))
    log.append(PredictionBatch("r-named", "fraud-api", "fraud", 2, "candidate", None, [{"p": 0.4, "cls": "a"}], 1.0, T0 + 1))
    log.append(PredictionBatch("r-scalar", "fraud-api", "fraud", 3, "shadow", None, np.array([1]), 1.0, T0 + 2, shadow=True))
    assert log.flush()
    rows = {r["request_id"] + str(r["row"]): r for r in local_services.predictions().read("fraud-api").to_pylist()}
    assert (rows["r-vec0"]["input.amount"], rows["r-vec1"]["input.country"]) == (1.5, "de")
    assert (rows["r-vec1"]["output.0"], rows["r-vec1"]["output.1"]) == (0.7, 0.3)
    assert (rows["r-named0"]["output.p"], rows["r-named0"]["output.cls"]) == (0.4, "a")
    assert rows["r-scalar0"]["output"] == 1 and rows["r-vec0"]["output"] is None  # shapes disagree: vectors stay in output.<i>
