"""The SDK over HTTP: the same ``Client`` against ``steward server`` as embedded.

The training loops run against the real server process (SQLite and PostgreSQL); the
error-parity checks run the app in-process, where the embedded service shares the store.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from steward import errors
from steward.core import Metric, RunStatus
from steward.sdk import Client, HttpBackend
from steward.settings import Settings
from steward.tracking import TrackingService


def _remote(settings: Settings, url: str, **changes: Any) -> Client:  # Any: Settings fields
    return Client(settings.model_copy(update={"tracking_uri": url, "user": "alice", **changes}))


def _train(client: Client, workdir: Path) -> str:
    """A training-style loop using every part of the run API; returns the run id."""
    (workdir / "model").mkdir()
    (workdir / "model" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    (workdir / "model" / "conf.yaml").write_text("C: 1.0\n")
    (workdir / "report.txt").write_text("auc 0.93\n")
    with client.start_run("churn", name="gbm-1", params={"model": "gbm", "C": 1.0, "depth": 3}, tags={"team": "growth"}) as run:
        run.log_params({"lr": 0.05})
        for step in range(200):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            run.log_metrics({"auc": 0.5 + step / 500, "acc": 0.6 + step / 1000}, step=step)
        run.log_metric("odd", math.nan, step=0)
        run.log_metric("odd", math.inf, step=1)
        run.log_metric("odd", -math.inf, step=2)
        run.set_tag("stage", "tuned")
        run.set_note("## Notes\nfirst try")
        run.log_artifact(workdir / "report.txt")
        run.log_artifact(workdir / "model", artifact_path="artifacts")
        run.log_dict({"auc": 0.93}, "metrics/summary.json")
        run_id = run.run_id
    return run_id


def _same_metric(a: Metric, b: Metric) -> bool:
    same_value = (math.isnan(a.value) and math.isnan(b.value)) or a.value == b.value
    return same_value and (a.key, a.step, a.timestamp) == (b.key, b.step, b.timestamp)


def test_a_training_loop_over_http_reads_back_identically_through_the_embedded_client(
    live_server: Any, settings: Settings, tmp_path: Path
) -> None:
    remote = _remote(settings, live_server.url)
    embedded = Client(settings.model_copy(update={"user": "alice"}))
    try:
        run_id = _train(remote, tmp_path)

        over_http, local = remote.get_run(run_id), embedded.get_run(run_id)
        assert over_http.status is RunStatus.FINISHED and over_http.user == "alice"
        assert over_http.params == {"model": "gbm", "C": "1.0", "depth": "3", "lr": "0.05"}
        assert over_http.tags["stage"] == "tuned" and over_http.tags["team"] == "growth"
        assert over_http.note == "## Notes\nfirst try"
        odd = over_http.metrics.pop("odd")
        local_odd = local.metrics.pop("odd")
        assert odd.value == -math.inf and _same_metric(odd, local_odd)
        assert over_http == local
        for key in ("loss", "auc", "acc", "odd"):
            a, b = remote.get_metric_history(run_id, key), embedded.get_metric_history(run_id, key)
            assert len(a) == len(b) == (3 if key == "odd" else 200)
            assert all(_same_metric(x, y) for x, y in zip(a, b, strict=True))
        assert math.isnan(remote.get_metric_history(run_id, "odd")[0].value)

        paths = [a.path for a in remote.list_artifacts(run_id)]
        assert {"report.txt", "artifacts/model/weights.bin", "artifacts/model/conf.yaml", "metrics/summary.json"} <= set(paths)
        assert remote.list_artifacts(run_id) == embedded.list_artifacts(run_id)
        for path in paths:
            assert remote.read_artifact(run_id, path) == embedded.read_artifact(run_id, path)
        assert remote.read_artifact(run_id, "artifacts/model/weights.bin") == bytes(range(256)) * 40
        target = remote.download_artifact(run_id, "report.txt", tmp_path)
        assert Path(target).read_text() == "auc 0.93\n"

        found_remote = remote.search_runs("churn", filter="metrics.auc > 0.8 and params.model = 'gbm'", order_by=["metrics.auc DESC"])
        found_local = embedded.search_runs("churn", filter="metrics.auc > 0.8 and params.model = 'gbm'", order_by=["metrics.auc DESC"])
        assert [r.run_id for r in found_remote.runs] == [r.run_id for r in found_local.runs] == [run_id]
        assert [e.name for e in remote.list_experiments()] == [e.name for e in embedded.list_experiments()] == ["churn"]
    finally:
        remote.close()
        embedded.close()


def test_a_run_that_raises_over_http_is_marked_failed_with_its_traceback(live_server: Any, settings: Settings) -> None:
    remote = _remote(settings, live_server.url)
    try:
        with pytest.raises(ZeroDivisionError), remote.start_run("churn", capture=False) as run:
            run.log_metric("loss", 0.5, step=0)
            _ = 1 / 0
        got = remote.get_run(run.run_id)
        assert got.status is RunStatus.FAILED and got.metrics["loss"].value == 0.5
        failure = remote.backend.get_run_failure(run.run_id)
        assert failure is not None and "ZeroDivisionError" in failure
    finally:
        remote.close()


def test_100k_metric_points_through_the_server_are_all_durable(
    live_server: Any, settings: Settings, record_property: Any  # Any: pytest's callable
) -> None:
    """10 runs x 10 metrics x 1,000 steps; the time is recorded, not asserted."""
    remote = _remote(settings, live_server.url, capture_packages=False)
    try:
        started = time.perf_counter()
        run_ids = []
        for r in range(10):
            with remote.start_run("bench", name=f"r{r}", capture=False) as run:
                for step in range(1000):
                    for k in range(10):
                        run.log_metric(f"m{k}", step * 0.001 + k, step=step)
            run_ids.append(run.run_id)
        elapsed = time.perf_counter() - started
        record_property("seconds_for_100k_points", round(elapsed, 3))
        print(f"\n100,000 points through the server ({settings.resolved_database_url().split(':')[0]}): {elapsed:.2f} s")
    finally:
        remote.close()
    embedded = Client(settings)
    try:
        total = 0
        for run_id in run_ids:
            for k in range(10):
                history = embedded.get_metric_history(run_id, f"m{k}")
                assert [m.step for m in history] == list(range(1000))
                total += len(history)
        assert total == 100_000
    finally:
        embedded.close()


# -- the same errors either way (in-process app, same store as the embedded service) ---------


@pytest.fixture
def http(asgi_transport: Any) -> HttpBackend:  # Any: SyncASGITransport
    return HttpBackend("http://steward.test", transport=asgi_transport, user="tester")


def _parity_cases(svc: Any) -> list[tuple[str, Any]]:  # Any: either backend
    exp = svc.get_or_create_experiment("parity")
    run = svc.create_run(exp.experiment_id, params={"k": "v"})
    done = svc.create_run(exp.experiment_id)
    svc.end_run(done.run_id)
    return [
        ("unknown run", lambda: svc.get_run("0" * 32)),
        ("unknown experiment", lambda: svc.get_experiment("999999")),
        ("duplicate experiment", lambda: svc.create_experiment("parity")),
        ("bad filter", lambda: svc.search_runs(None, filter="metrics.a > > 1")),
        ("bad order", lambda: svc.search_runs(None, order_by=["metrics.a UP"])),
        ("logging to a finished run", lambda: svc.log_batch(done.run_id, metrics=[Metric("a", 1.0, 0, 1)])),
        ("param key too long", lambda: svc.log_batch(run.run_id, params={"k" * 251: "v"})),
        ("param value too long", lambda: svc.log_batch(run.run_id, params={"p": "v" * 6001})),
        ("changing a param", lambda: svc.log_batch(run.run_id, params={"k": "w"})),
        ("traversal", lambda: svc.log_artifact_bytes(run.run_id, b"x", "../../etc/passwd")),
        ("absolute path", lambda: svc.log_artifact_bytes(run.run_id, b"x", "/etc/passwd")),
        ("unknown artifact", lambda: svc.read_artifact(run.run_id, "none.txt")),
        ("ending twice differently", lambda: svc.end_run(done.run_id, RunStatus.FAILED)),
    ]


def _raised(call: Any) -> errors.StewardError:  # Any: a zero-argument callable
    with pytest.raises(errors.StewardError) as info:
        call()
    return info.value


def test_the_http_backend_raises_the_same_errors_as_the_embedded_service(http: HttpBackend, tracking: TrackingService) -> None:
    remote_cases = _parity_cases(http)
    local_cases = _parity_cases(tracking)
    for (name, remote_call), (_, local_call) in zip(remote_cases, local_cases, strict=True):
        remote_error, local_error = _raised(remote_call), _raised(local_call)
        assert type(remote_error) is type(local_error), name
        assert remote_error.field == local_error.field, name
        if isinstance(local_error, errors.FilterSyntaxError):
            assert isinstance(remote_error, errors.FilterSyntaxError)
            assert remote_error.position == local_error.position and remote_error.message == local_error.message


def test_non_finite_values_round_trip_through_the_http_backend(http: HttpBackend, tracking: TrackingService) -> None:
    run = http.create_run(http.get_or_create_experiment("nan").experiment_id)
    points = [Metric("v", math.nan, 0, 1), Metric("v", math.inf, 1, 2), Metric("v", -math.inf, 2, 3), Metric("v", 1e-300, 3, 4)]
    http.log_batch(run.run_id, metrics=points)
    for history in (http.get_metric_history(run.run_id, "v"), tracking.get_metric_history(run.run_id, "v")):
        assert math.isnan(history[0].value)
        assert [m.value for m in history[1:]] == [math.inf, -math.inf, 1e-300]


def test_the_http_backend_sends_the_configured_user(http: HttpBackend, tracking: TrackingService) -> None:
    run = http.create_run(http.get_or_create_experiment("who").experiment_id)
    assert tracking.get_run(run.run_id).user == "tester"
    assert {e.actor for e in tracking.store.list_audit()} == {"tester"}


def test_an_unreachable_server_is_a_storage_error(tmp_path: Path) -> None:
    client = Client(Settings(home=tmp_path, tracking_uri="http://127.0.0.1:9", capture_git=False))
    try:
        with pytest.raises(errors.StorageError, match="unreachable"):
            client.list_experiments()
    finally:
        client.close()
