"""Hostile input, tried as an attacker would: filters nested to blow the stack, names that
hide control, bidirectional or zero-width characters, bodies streamed past the limit, and
batches over MLflow's limits. Each refusal is a 4xx in the right error shape naming the
field, and nothing is stored. Validation refusals are not audited (only 401/403/429 are,
see ``steward.server._denials``), so the audit trail must not grow either.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import polars as pl
import pytest
import uvicorn

from steward.core.filters import MAX_FILTER_DEPTH
from steward.core.limits import MAX_BATCH_INPUTS, MAX_BATCH_PARAMS
from steward.errors import FilterSyntaxError, InvalidInputError
from steward.sdk import HttpBackend
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services

# Each holds one character that check_name refuses, in the middle or at an end.
HOSTILE = {
    "nul": "churn\x00x",
    "terminal-title": "churn\x1b]0;pwned\x07",
    "delete": "churn\x7f",
    "c1-control": "churn\x9bx",
    "trailing-newline": "churn\n",
    "right-to-left-override": "churn\u202egpj.exe",
    "isolate": "churn\u2066x\u2069",
    "left-to-right-mark": "churn\u200e",
    "arabic-letter-mark": "churn\u061c",
    "zero-width-space": "ch\u200burn",
    "zero-width-joiner": "ch\u200durn",
    "word-joiner": "ch\u2060urn",
    "byte-order-mark": "\ufeffchurn",
}
NAMES = pytest.mark.parametrize("bad", HOSTILE.values(), ids=HOSTILE.keys())
DEEP_FILTERS = {
    "parentheses": "(" * 3000 + "metrics.auc > 0.5" + ")" * 3000,
    "nots": "not " * 2400 + "metrics.auc > 0.5",
    "mixed": "not (" * 1500 + "metrics.auc > 0.5" + ")" * 1500,
}
DEEP = pytest.mark.parametrize("deep", DEEP_FILTERS.values(), ids=DEEP_FILTERS.keys())


def _audit_size(services: Services) -> int:
    return len(services.store.list_audit(limit=100_000))


def _refused(response: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["field"] == field
    return error


def _names_the_character(error: dict[str, Any]) -> None:
    # the one validator (steward.core.names) answered, naming the code point, not the name
    assert "U+" in error["message"] and "control, bidirectional or zero-width" in error["message"]


@pytest.fixture
def experiment_id(api: httpx.Client) -> str:
    eid: str = api.post("/api/v1/experiments", json={"name": "base"}).json()["experiment_id"]
    return eid


@pytest.fixture
def run_id(api: httpx.Client, experiment_id: str) -> str:
    rid: str = api.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "r"}).json()["run_id"]
    return rid


# -- deep filters ----------------------------------------------------------------------------


@DEEP
def test_a_filter_nested_past_the_limit_is_400_naming_the_filter_on_v1_search(
    api: httpx.Client, experiment_id: str, deep: str
) -> None:
    response = api.post("/api/v1/runs/search", json={"experiments": [experiment_id], "filter": deep})
    error = _refused(response, "filter", status=400)
    assert error["code"] == "INVALID_FILTER"
    assert f"more than {MAX_FILTER_DEPTH} deep" in error["message"]


def test_a_filter_at_the_depth_limit_is_still_answered(api: httpx.Client, experiment_id: str, run_id: str) -> None:
    depth = MAX_FILTER_DEPTH // 2
    nested = "not (" * depth + "metrics.auc > 0.5" + ")" * depth
    response = api.post("/api/v1/runs/search", json={"experiments": [experiment_id], "filter": nested})
    assert response.status_code == 200, response.text


@DEEP
def test_a_deep_filter_on_mlflow_runs_search_is_400_invalid_parameter_value(
    api: httpx.Client, experiment_id: str, deep: str
) -> None:
    response = api.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id], "filter": deep})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"more than {MAX_FILTER_DEPTH} deep" in body["message"]


def test_a_deep_filter_on_mlflow_experiments_search_is_400(api: httpx.Client) -> None:
    deep = "(" * 3000 + "name = 'x'" + ")" * 3000
    response = api.post("/api/2.0/mlflow/experiments/search", json={"filter": deep})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_an_mlflow_filter_at_the_depth_limit_survives_its_translation(api: httpx.Client, experiment_id: str, run_id: str) -> None:
    # the MLflow filter is rewritten and parsed again: the rewrite may not nest deeper
    nested = "not (" * (MAX_FILTER_DEPTH // 2) + "metrics.auc > 0.5 or tags.mlflow.runName = 'r'" + ")" * (MAX_FILTER_DEPTH // 2)
    response = api.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id], "filter": nested})
    assert response.status_code == 200, response.text


@DEEP
def test_the_sdk_raises_a_filter_error_for_a_deep_filter(asgi_transport: Any, experiment_id: str, deep: str) -> None:
    http = HttpBackend("http://steward.test", transport=asgi_transport, user="tester")
    with pytest.raises(FilterSyntaxError) as info:
        http.search_runs([experiment_id], filter=deep)
    assert info.value.field == "filter"


# -- names -------------------------------------------------------------------------------


@NAMES
def test_an_experiment_name_with_a_hidden_character_is_422_and_not_stored(api: httpx.Client, services: Services, bad: str) -> None:
    before = _audit_size(services)
    error = _refused(api.post("/api/v1/experiments", json={"name": bad}), "name")
    _names_the_character(error)
    assert [e["name"] for e in api.get("/api/v1/experiments").json()["experiments"]] == []
    assert _audit_size(services) == before


@NAMES
def test_a_run_name_with_a_hidden_character_is_422_on_create_and_rename(
    api: httpx.Client, services: Services, experiment_id: str, run_id: str, bad: str
) -> None:
    before = _audit_size(services)
    _names_the_character(_refused(api.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": bad}), "name"))
    _names_the_character(_refused(api.patch(f"/api/v1/runs/{run_id}", json={"name": bad}), "name"))
    runs = api.post("/api/v1/runs/search", json={"experiments": [experiment_id]}).json()["runs"]
    assert [r["name"] for r in runs] == ["r"]
    assert _audit_size(services) == before


@NAMES
def test_a_tag_param_or_metric_key_with_a_hidden_character_is_422_naming_the_field(
    api: httpx.Client, services: Services, experiment_id: str, run_id: str, bad: str
) -> None:
    before = _audit_size(services)
    _names_the_character(_refused(api.post("/api/v1/experiments", json={"name": "tagged", "tags": {bad: "v"}}), "tags"))
    param = _refused(api.post(f"/api/v1/runs/{run_id}/batch", json={"params": {bad: "1"}}), f"params.{bad[:60]}")
    _names_the_character(param)
    _names_the_character(_refused(api.post(f"/api/v1/runs/{run_id}/batch", json={"tags": {bad: "1"}}), "tags"))
    metric = api.post(f"/api/v1/runs/{run_id}/batch", json={"metrics": [{"key": bad, "value": 1.0}]})
    assert metric.status_code == 422 and metric.json()["error"]["field"].startswith("metrics")
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["params"] == {} and run["metrics"] == {} and set(run["tags"]) <= {"steward.source"}
    assert api.get("/api/v1/experiments", params={"name": "tagged"}).json()["experiments"] == []
    assert _audit_size(services) == before


@NAMES
def test_a_model_name_or_alias_with_a_hidden_character_is_422(api: httpx.Client, services: Services, bad: str) -> None:
    before = _audit_size(services)
    _names_the_character(_refused(api.post("/api/v1/models", json={"name": bad.lower()}), "name"))
    assert api.get("/api/v1/models").json()["models"] == []
    assert _audit_size(services) == before
    with pytest.raises(InvalidInputError) as info:
        services.registry("tester").create_model(bad.lower())
    assert info.value.field == "name" and "U+" in info.value.message


@NAMES
def test_a_dataset_name_with_a_hidden_character_is_422_and_nothing_is_registered(
    api: httpx.Client, services: Services, bad: str
) -> None:
    before = _audit_size(services)
    response = api.post(
        f"/api/v1/datasets/{quote(bad, safe='')}/versions", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}
    )
    _names_the_character(_refused(response, "name"))
    with pytest.raises(InvalidInputError) as info:  # the embedded SDK's path: the same service
        services.data("tester").register(bad, pl.DataFrame({"a": [1]}))
    assert info.value.field == "name" and "U+" in info.value.message
    assert api.get("/api/v1/datasets").json()["datasets"] == []
    assert _audit_size(services) == before


@NAMES
def test_a_user_name_with_a_hidden_character_is_422(api: httpx.Client, services: Services, bad: str) -> None:
    before = _audit_size(services)
    response = api.post("/api/v1/users", json={"name": bad, "email": "x@example.com"})
    _names_the_character(_refused(response, "name"))
    with pytest.raises(InvalidInputError) as info:
        services.governance("root").create_user(bad, "x@example.com")
    assert info.value.field == "name" and "U+" in info.value.message
    assert services.governance("root").list_users() == []
    assert _audit_size(services) == before


@pytest.mark.parametrize("bad", ["bob\n", "SECRET\n", "ds\n", "suite\n"], ids=["user", "secret", "dataset", "suite"])
def test_a_trailing_newline_no_longer_slips_past_the_ascii_name_rules(services: Services, bad: str) -> None:
    # "^...$" with re.match accepts "name\n"; the rules now use fullmatch behind check_name
    from steward.data._suite import suite_name_is_valid
    from steward.data._versions import validate_name as dataset_name
    from steward.governance import check_user_name
    from steward.governance._secrets import check_secret_name

    check = {"user": check_user_name, "secret": check_secret_name, "dataset": dataset_name}
    kind = {"bob\n": "user", "SECRET\n": "secret", "ds\n": "dataset", "suite\n": "suite"}[bad]
    if kind == "suite":
        assert not suite_name_is_valid(bad)
        return
    with pytest.raises(InvalidInputError) as info:
        check[kind](bad)
    assert info.value.field == "name"


@NAMES
def test_the_sdk_refuses_hidden_characters_in_experiment_and_run_names(
    asgi_transport: Any, experiment_id: str, bad: str
) -> None:
    http = HttpBackend("http://steward.test", transport=asgi_transport, user="tester")
    with pytest.raises(InvalidInputError) as info:
        http.create_experiment(bad)
    assert info.value.field == "name" and "U+" in info.value.message
    with pytest.raises(InvalidInputError):
        http.create_run(experiment_id, name=bad)
    assert [e.name for e in http.list_experiments()] == ["base"]


def test_the_mlflow_routes_refuse_hidden_characters_in_mlflows_error_shape(api: httpx.Client, run_id: str) -> None:
    created = api.post("/api/2.0/mlflow/experiments/create", json={"name": "churn\x1b]0;pwned\x07"})
    assert created.status_code == 400 and created.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    renamed = api.post("/api/2.0/mlflow/runs/set-tag", json={"run_id": run_id, "key": "mlflow.runName", "value": "r\u202ex"})
    assert renamed.status_code == 400 and renamed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    tagged = api.post("/api/2.0/mlflow/runs/set-tag", json={"run_id": run_id, "key": "k\u200b", "value": "v"})
    assert tagged.status_code == 400 and tagged.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert api.get(f"/api/v1/runs/{run_id}").json()["name"] == "r"


# -- batch limits ------------------------------------------------------------------------


def _mlflow_batch(n_metrics: int = 0, n_params: int = 0, n_tags: int = 0) -> dict[str, Any]:
    return {
        "metrics": [{"key": "m", "value": float(i), "timestamp": 1, "step": i} for i in range(n_metrics)],
        "params": [{"key": f"p{i}", "value": "v"} for i in range(n_params)],
        "tags": [{"key": f"t{i}", "value": "v"} for i in range(n_tags)],
    }


@pytest.mark.parametrize(
    ("counts", "named"),
    [((1001, 0, 0), "1,000 metrics"), ((0, 101, 0), "100 params"), ((0, 0, 101), "100 tags"), ((901, 100, 0), "1,000 metrics, params and tags")],
    ids=["metrics", "params", "tags", "total"],
)
def test_mlflow_log_batch_over_mlflows_limits_is_400_invalid_parameter_value_and_stores_nothing(
    api: httpx.Client, services: Services, run_id: str, counts: tuple[int, int, int], named: str
) -> None:
    before = _audit_size(services)
    response = api.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, **_mlflow_batch(*counts)})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and f"at most {named}" in body["message"]
    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["metrics"] == {} and run["params"] == {}
    assert _audit_size(services) == before


def test_mlflow_log_batch_at_mlflows_limits_is_stored(api: httpx.Client, run_id: str) -> None:
    response = api.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, **_mlflow_batch(900, 100, 0)})
    assert response.status_code == 200, response.text
    assert len(api.get(f"/api/v1/runs/{run_id}").json()["params"]) == 100


def test_v1_batches_over_the_documented_limits_are_422_naming_the_field(api: httpx.Client, run_id: str) -> None:
    params = {f"p{i}": "v" for i in range(MAX_BATCH_PARAMS + 1)}
    _refused(api.post(f"/api/v1/runs/{run_id}/batch", json={"params": params}), "params")
    inputs = [{"dataset": f"d{i}:1"} for i in range(MAX_BATCH_INPUTS + 1)]
    _refused(api.post(f"/api/v1/runs/{run_id}/inputs", json={"inputs": inputs}), "inputs")
    assert api.get(f"/api/v1/runs/{run_id}").json()["params"] == {}


# -- a chunked body over the limit, on a real server ------------------------------------


class _Uvicorn:
    """uvicorn serving ``app`` on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:  # Any: an ASGI app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def small_server(settings: Settings, services: Services) -> Iterator[_Uvicorn]:
    server = _Uvicorn(create_app(settings.model_copy(update={"max_request_bytes": 1000}), services))
    yield server
    server.stop()


def _chunked(port: int, path: str, chunks: list[bytes], content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    """Send ``chunks`` with Transfer-Encoding: chunked (no content-length) on a raw socket."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break  # the server may close before reading the rest; the answer came first
            if not data:
                break
            received += data
    response = httpx.Response(200)  # only for its JSON decoder
    status_line, _, rest = received.partition(b"\r\n")
    headers, _, payload = rest.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in headers.lower():
        size, _, tail = payload.partition(b"\r\n")
        payload = tail[: int(size, 16)]
    response = httpx.Response(int(status_line.split()[1]), content=payload)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/experiments", "application/json"),
        ("/api/2.0/mlflow/experiments/create", "application/json"),
        ("/api/v1/datasets/big/versions", "text/csv"),  # a route that streams the body itself
    ],
    ids=["v1-json", "mlflow-json", "streamed-upload"],
)
def test_a_chunked_body_over_the_limit_is_413_with_the_json_error_never_500(
    small_server: _Uvicorn, services: Services, path: str, content_type: str
) -> None:
    before = _audit_size(services)
    chunks = [b'{"name": "' + b"x" * 300] + [b"x" * 300] * 5 + [b'"}']
    status, body = _chunked(small_server.port, path, chunks, content_type)
    assert status == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert services.tracking("t").list_experiments() == []
    assert services.data("t").list_datasets() == []
    assert _audit_size(services) == before


def test_a_chunked_body_under_the_limit_is_served(small_server: _Uvicorn, services: Services) -> None:
    status, body = _chunked(small_server.port, "/api/v1/experiments", [b'{"name": ', b'"chunked"}'])
    assert status == 201 and body["name"] == "chunked"
