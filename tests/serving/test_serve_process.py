"""End to end against a real ``steward serve`` with two workers on a loopback port."""

from __future__ import annotations

import io
import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.ipc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serving_testing import (
    FEATURES,
    ServeProcess,
    register,
    store_env,
    store_settings,
    training_frame,
)

import steward.models

pytestmark = pytest.mark.slow

COLUMNS = [*FEATURES, "count"]
MAX_BODY = 300_000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Any]:  # Any: the fitted estimator
    """The environment of a store holding fraud:1 (@champion), and the model."""
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path_factory.mktemp("serve"))
    frame, target = training_frame()
    model = LogisticRegression(max_iter=500).fit(frame, target)
    version = register(settings, model, frame)
    with steward.models.registry(settings, actor="tester") as reg:
        reg.set_alias("fraud", "champion", version)
    return {**store_env(settings), "STEWARD_SERVE_MAX_REQUEST_BYTES": str(MAX_BODY)}, model


@pytest.fixture(scope="module")
def served(store: tuple[dict[str, str], Any]) -> Iterator[tuple[ServeProcess, Any]]:
    env, model = store
    server = ServeProcess(["fraud@champion", "--workers", "2"], env)  # granian, the default
    try:
        yield server, model
    finally:
        server.stop()


def _rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    frame, _ = training_frame(n, seed)
    return [{k: (int(v) if k == "count" else float(v)) for k, v in row.items()} for row in frame.to_dict("records")]


def _expected(model: Any, rows: list[dict[str, Any]]) -> list[int]:  # Any: the fitted estimator
    import pandas as pd

    return [int(v) for v in model.predict(pd.DataFrame(rows, columns=COLUMNS))]


def test_records_split_and_instances_give_the_in_process_predictions(served: tuple[ServeProcess, Any]) -> None:
    server, model = served
    rows = _rows(7)
    expected = _expected(model, rows)
    bodies = [
        rows,
        {"dataframe_records": rows},
        {"columns": COLUMNS, "data": [[r[c] for c in COLUMNS] for r in rows]},
        {"dataframe_split": {"columns": COLUMNS[::-1], "data": [[r[c] for c in COLUMNS[::-1]] for r in rows]}},
        {"instances": rows},
        {"instances": [[r[c] for c in COLUMNS] for r in rows]},
    ]
    with httpx.Client(base_url=server.url) as http:
        for body in bodies:
            answer = http.post("/predict", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] == expected
            assert answer.headers["x-steward-model"] == "fraud"
            assert answer.headers["x-steward-model-version"] == "1"
            assert answer.headers["x-steward-variant"] == "primary"
            assert len(answer.headers["x-request-id"]) == 32


def test_a_caller_request_id_is_echoed(served: tuple[ServeProcess, Any]) -> None:
    server, _ = served
    answer = httpx.post(f"{server.url}/predict", json=_rows(1), headers={"x-request-id": "abc-123"})
    assert answer.headers["x-request-id"] == "abc-123"


def test_arrow_stream_in_gives_arrow_stream_out(served: tuple[ServeProcess, Any]) -> None:
    server, model = served
    rows = _rows(500, seed=3)
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    answer = httpx.post(
        f"{server.url}/predict", content=sink.getvalue().to_pybytes(),
        headers={"content-type": "application/vnd.apache.arrow.stream"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.apache.arrow.stream"
    out = pyarrow.ipc.open_stream(io.BytesIO(answer.content)).read_all()
    assert out.column("prediction").to_pylist() == _expected(model, rows)


def test_tritonclient_reads_metadata_and_infers_per_column_and_as_one_tensor(served: tuple[ServeProcess, Any]) -> None:
    import tritonclient.http as triton

    server, model = served
    rows = _rows(4, seed=5)
    expected = _expected(model, rows)
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    try:
        assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("fraud")
        meta = client.get_model_metadata("fraud")
        assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [*((f, "FP64") for f in FEATURES), ("count", "INT64")]
        assert meta["outputs"][0]["name"] == "predict"
        inputs = []
        for spec in meta["inputs"]:
            dtype = np.int64 if spec["datatype"] == "INT64" else np.float64
            tensor = triton.InferInput(spec["name"], [len(rows)], spec["datatype"])
            tensor.set_data_from_numpy(np.array([r[spec["name"]] for r in rows], dtype=dtype))  # binary by default
            inputs.append(tensor)
        result = client.infer("fraud", inputs)
        assert result.as_numpy("predict").tolist() == expected
        assert result.get_response()["model_version"] == "1"
        assert result.get_response()["parameters"]["variant"] == "primary"

        matrix = np.array([[r[c] for c in COLUMNS] for r in rows], dtype=np.float64)
        tensor = triton.InferInput("input", list(matrix.shape), "FP64")
        tensor.set_data_from_numpy(matrix, binary_data=False)
        result = client.infer("fraud", [tensor], model_version="1", outputs=[triton.InferRequestedOutput("predict", binary_data=False)])
        assert result.as_numpy("predict").tolist() == expected

        with pytest.raises(triton.InferenceServerException) as caught:
            client.infer("fraud", [tensor], model_version="9")
        assert caught.value.status() == "404"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"", 422, "body"),
        (b'[{"f0": "a lot", "f1": 1, "f2": 1, "f3": 1, "f4": 1, "count": 1}]', 422, "f0"),
        (b'[{"f0": 1, "f1": 1, "f2": 1, "f3": 1, "f4": 1, "count": 1.5}]', 422, "count"),
        (b'[{"f0": 1, "f1": 1, "f2": 1, "f3": 1, "f4": 1}]', 422, "count"),
        (b'[{"f0": 1, "f1": 1, "f2": 1, "f3": 1, "f4": 1, "count": 1, "zip": 1}]', 422, "zip"),
        (b'[{"f0": null, "f1": 1, "f2": 1, "f3": 1, "f4": 1, "count": 1}]', 422, "f0"),
        (b'{"columns": ["f0"], "data": [[1]]}', 422, "f1"),
        (b'{"something": []}', 422, "body"),
        (b"[1, 2]", 422, "records[0]"),
    ],
)
def test_bad_predict_bodies_are_json_errors_naming_the_field(
    served: tuple[ServeProcess, Any], body: bytes, status: int, field: str
) -> None:
    server, _ = served
    answer = httpx.post(f"{server.url}/predict", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["field"] == field
    assert error["message"]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ([{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}], "input"),
        ([{"name": "input", "shape": [2, 6], "datatype": "FP64", "data": [1, 2, 3]}], "input"),
        ([{"name": f, "shape": [1, 2], "datatype": "FP64", "data": [1, 2]} for f in COLUMNS], "f0"),
        ([{"name": f, "shape": [1], "datatype": "BYTES", "data": ["x"]} for f in COLUMNS], "f0"),
        ([{"name": f, "shape": [1], "datatype": "FP64", "data": [1]} for f in FEATURES], "count"),
        ([{"name": "input", "shape": [1, 6], "datatype": "FP99", "data": [1, 2, 3, 4, 5, 6]}], "input"),
    ],
)
def test_bad_v2_requests_are_json_errors_naming_the_input(served: tuple[ServeProcess, Any], inputs: Any, field: str) -> None:
    server, _ = served
    answer = httpx.post(f"{server.url}/v2/models/fraud/infer", json={"inputs": inputs})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


def test_unknown_models_oversized_bodies_and_wrong_methods_never_answer_500(served: tuple[ServeProcess, Any]) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url) as http:
        unknown = http.post("/v2/models/nope/infer", json={"inputs": []})
        assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "model_name"
        assert http.get("/v2/models/nope").status_code == 404
        big = http.post("/predict", content=b"[" + b" " * (MAX_BODY + 10) + b"]")
        assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        chunked = http.post("/predict", content=iter([b"[", b" " * (MAX_BODY + 10), b"]"]))
        assert chunked.status_code == 413
        assert http.get("/predict").status_code == 405
        assert http.get("/nowhere").status_code == 404


def test_explain_gives_one_attribution_per_feature_and_row(served: tuple[ServeProcess, Any]) -> None:
    server, _ = served
    rows = _rows(3, seed=9)
    answer = httpx.post(f"{server.url}/v2/models/fraud/explain", json={"records": rows})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["feature_names"] == COLUMNS
    assert np.array(doc["attributions"]).shape == (3, len(COLUMNS))
    # occlusion against the mean: the attributions of a linear model are its coefficients times the offsets
    assert doc["method"] in ("occlusion", "shap") and doc["model_version"] == "1"


def test_metrics_of_both_workers_parse_with_prometheus_parser(served: tuple[ServeProcess, Any]) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url) as http:
        before = _requests_total(http.get("/metrics").text)
        for _ in range(20):
            # new connections: the kernel spreads them over both workers
            assert httpx.post(f"{server.url}/predict", json=_rows(1)).status_code == 200
        text = http.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert _requests_total(text) - before == 20
    latency = families["steward_serving_request_duration_seconds"]
    counts = [s for s in latency.samples if s.name.endswith("_count")]
    assert counts and counts[0].labels == {"deployment": "fraud", "model": "fraud", "version": "1", "variant": "primary"}
    assert "steward_serving_batch_size" in families and "steward_serving_in_flight" in families
    assert any(s.labels.get("status") == "422" for s in families["steward_serving_errors"].samples)


def _requests_total(text: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    if "steward_serving_requests" not in families:
        return 0.0  # a fresh server (test distribution may start one per test process)
    return sum(s.value for s in families["steward_serving_requests"].samples if s.name.endswith("_total"))


def _workers(server: ServeProcess) -> set[int]:
    """Live worker processes of the server (a killed one is a zombie until its parent reaps it)."""
    import psutil

    found = set()
    for child in psutil.Process(server.proc.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # gone meanwhile
            continue
    return found


def _wait_until_dead(pid: int) -> None:
    import psutil

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)
    raise AssertionError(f"worker {pid} still alive 30 s after SIGKILL")


def test_a_worker_killed_with_sigkill_is_replaced_while_the_other_keeps_serving(served: tuple[ServeProcess, Any]) -> None:
    server, _ = served
    workers = _workers(server)
    assert len(workers) == 2
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    _wait_until_dead(victim)  # SIGKILL lands when the victim is next scheduled: until then it may still accept
    failures = 0
    for _ in range(30):
        try:
            ok = httpx.post(f"{server.url}/predict", json=_rows(1), timeout=10).status_code == 200
        except httpx.TransportError:
            ok = False
        failures += not ok
    assert failures == 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _workers(server)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.5)
    assert len(_workers(server)) == 2 and victim not in _workers(server)


def test_sigterm_drains_a_request_in_flight_before_exiting(served: tuple[ServeProcess, Any]) -> None:
    server, model = served
    rows = _rows(1, seed=11)
    body = httpx.Request("POST", "/", json=rows).read()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(
            b"POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode() + body[:10]
        )
        time.sleep(0.5)  # the worker has started the request and waits for the rest of the body
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        conn.sendall(body[10:])
        answer = _read_response(conn)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert str(_expected(model, rows)[0]).encode() in answer.split(b"\r\n\r\n", 1)[1]
    assert server.stop() == 0


def _read_response(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest



def test_uvicorn_workers_serve_and_replace_a_killed_worker_too(store: tuple[dict[str, str], Any]) -> None:
    env, _ = store
    other = ServeProcess(["fraud:1", "--workers", "2", "--server", "uvicorn"], env)
    try:
        assert httpx.post(f"{other.url}/predict", json=_rows(1)).headers["x-steward-variant"] == "primary"
        victim = min(_workers(other))
        os.kill(victim, signal.SIGKILL)
        assert all(httpx.post(f"{other.url}/predict", json=_rows(1), timeout=10).status_code == 200 for _ in range(10))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (victim in _workers(other) or len(_workers(other)) != 2):
            time.sleep(0.5)
        assert victim not in _workers(other) and len(_workers(other)) == 2
    finally:
        assert other.stop() == 0

