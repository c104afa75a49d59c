"""Bad input over HTTP: the one JSON error shape, the right 4xx, and nothing left behind.

Every refused request is checked three ways: the status and ``{"error": {"code",
"message", "field"}}`` body, never a 500, and the store unchanged afterwards (row counts
of every tracking table and the number of blobs on disk).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from steward import errors
from steward.settings import Settings
from steward.wiring import Services, build_services

UNKNOWN_RUN = "0" * 32


def snapshot(services: Services) -> dict[str, int]:
    """Row counts of every table of the store and the number of stored blobs.

    Every table, not a list of them: a refused request must not change any, and the
    storage layout (e.g. how metric points are packed) may change under this test.
    """
    engine = services.store.engine
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            counts[table] = int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())
    blobs = Path(services.settings.resolved_artifact_root()) / "blobs" / "sha256"
    counts["blobs"] = sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0
    return counts


def assert_error(resp: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:  # Any: JSON
    """The one error shape, exactly: no other keys, a message, the field when named."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) <= {"code", "message", "field"} and {"code", "message"} <= set(err)
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    if field is not None:
        assert err.get("field") == field, err
    error: dict[str, Any] = err
    return error


def _make_world(api: httpx.Client) -> dict[str, str]:
    exp = api.post("/api/v1/experiments", json={"name": "churn"}).json()
    run = api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"], "params": {"k": "v"}}).json()
    done = api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}).json()
    api.patch(f"/api/v1/runs/{done['run_id']}", json={"status": "finished"})
    return {"exp": exp["experiment_id"], "run": run["run_id"], "done": done["run_id"]}


@pytest.fixture
def world(api: httpx.Client) -> dict[str, str]:
    """An experiment, a running run with a param and a finished run."""
    return _make_world(api)


GOOD = {"key": "loss", "value": 0.5, "step": 0}

# (id, method, url, request kwargs, status, code, field); {run}, {done}, {exp} are filled in.
BAD_REQUESTS: list[tuple[str, str, str, dict[str, Any], int, str, str | None]] = [  # Any: request kwargs
    ("unknown run", "GET", f"/api/v1/runs/{UNKNOWN_RUN}", {}, 404, "NOT_FOUND", "run_id"),
    ("unknown run batch", "POST", f"/api/v1/runs/{UNKNOWN_RUN}/batch", {"json": {"metrics": [GOOD]}}, 404, "NOT_FOUND", "run_id"),
    ("unknown run artifact", "PUT", f"/api/v1/runs/{UNKNOWN_RUN}/artifacts/a.txt", {"content": b"orphan"}, 404, "NOT_FOUND", "run_id"),
    ("unknown run patch", "PATCH", f"/api/v1/runs/{UNKNOWN_RUN}", {"json": {"status": "finished"}}, 404, "NOT_FOUND", "run_id"),
    ("unknown run history", "GET", f"/api/v1/runs/{UNKNOWN_RUN}/metric-history?key=loss", {}, 404, "NOT_FOUND", "run_id"),
    ("malformed run id", "GET", "/api/v1/runs/not-a-run", {}, 404, "NOT_FOUND", "run_id"),
    ("unknown experiment", "GET", "/api/v1/experiments/999999", {}, 404, "NOT_FOUND", "experiment_id"),
    ("run in unknown experiment", "POST", "/api/v1/runs", {"json": {"experiment_id": "999999"}}, 404, "NOT_FOUND", "experiment_id"),
    ("unknown artifact", "GET", "/api/v1/runs/{run}/artifacts/none.txt", {}, 404, "NOT_FOUND", "path"),
    ("non-numeric value", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [GOOD, {"key": "loss", "value": "abc", "step": 1}]}}, 422, "INVALID_INPUT", "metrics[1].value"),
    ("non-numeric column value", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": {"key": ["a", "a"], "value": [1, "x"], "step": [0, 1], "timestamp": [1, 2]}}}, 422, "INVALID_INPUT", "metrics.value[1]"),
    ("boolean value", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "a", "value": True}]}}, 422, "INVALID_INPUT", "metrics[0].value"),
    ("null value", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "a", "value": None}]}}, 422, "INVALID_INPUT", "metrics[0].value"),
    ("missing value", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "a"}]}}, 422, "INVALID_INPUT", "metrics[0].value"),
    ("empty key", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "", "value": 1}]}}, 422, "INVALID_INPUT", "metrics[0].key"),
    ("fractional step", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "a", "value": 1, "step": 1.5}]}}, 422, "INVALID_INPUT", "metrics[0].step"),
    ("step over 64 bits", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{"key": "a", "value": 1, "step": 2**70}]}}, 422, "INVALID_INPUT", "metrics[0].step"),
    ("column step over 64 bits", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": {"key": ["a"], "value": [1], "step": [-(2**64)]}}}, 422, "INVALID_INPUT", "metrics.step[0]"),
    ("ragged columns", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": {"key": ["a", "b"], "value": [1]}}}, 422, "INVALID_INPUT", "metrics.value"),
    ("metrics neither list nor columns", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": "loss=1"}}, 422, "INVALID_INPUT", "metrics"),
    ("param key over 250", "POST", "/api/v1/runs/{run}/batch", {"json": {"params": {"k" * 251: "v"}}}, 422, "INVALID_INPUT", None),
    ("param value over 6000", "POST", "/api/v1/runs/{run}/batch", {"json": {"params": {"big": "v" * 6001}}}, 422, "INVALID_INPUT", "params.big"),
    ("param key over 250 at create", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "params": {"k" * 251: "v"}}}, 422, "INVALID_INPUT", None),
    ("param value over 6000 at create", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "params": {"big": "v" * 6001}}}, 422, "INVALID_INPUT", "params.big"),
    ("param of no JSON scalar type", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "params": {"a": None}}}, 422, "INVALID_INPUT", "params.a"),
    ("tag value over 8000", "POST", "/api/v1/runs/{run}/batch", {"json": {"tags": {"t": "v" * 8001}}}, 422, "INVALID_INPUT", "tags.t"),
    ("changing a param", "POST", "/api/v1/runs/{run}/batch", {"json": {"params": {"k": "other"}}}, 409, "CONFLICT", "params.k"),
    ("filter syntax in search", "POST", "/api/v1/runs/search", {"json": {"filter": "metrics.auc >> 0.9"}}, 400, "INVALID_FILTER", "filter"),
    ("filter syntax in listing", "GET", "/api/v1/runs?filter=params.model%20%3D", {}, 400, "INVALID_FILTER", "filter"),
    ("bad order_by", "POST", "/api/v1/runs/search", {"json": {"order_by": ["metrics.auc SIDEWAYS"]}}, 400, "INVALID_FILTER", "order_by"),
    ("max_results 0", "POST", "/api/v1/runs/search", {"json": {"max_results": 0}}, 422, "INVALID_INPUT", "max_results"),
    ("max_results over 10,000", "GET", "/api/v1/runs?max_results=10001", {}, 422, "INVALID_INPUT", "max_results"),
    ("forged page token", "POST", "/api/v1/runs/search", {"json": {"page_token": "eyJvZmZzZXQiOiAtMX0="}}, 422, "INVALID_INPUT", "page_token"),
    ("logging to a finished run", "POST", "/api/v1/runs/{done}/batch", {"json": {"metrics": [GOOD], "params": {"p": 1}}}, 409, "CONFLICT", "run_id"),
    ("inputs to a finished run", "POST", "/api/v1/runs/{done}/inputs", {"json": {"inputs": [{"dataset": "datasets:/d/1"}]}}, 409, "CONFLICT", "run_id"),
    ("ending a finished run as failed", "PATCH", "/api/v1/runs/{done}", {"json": {"status": "failed"}}, 409, "CONFLICT", "status"),
    ("unknown status", "PATCH", "/api/v1/runs/{run}", {"json": {"status": "paused"}}, 422, "INVALID_INPUT", "status"),
    ("malformed JSON", "POST", "/api/v1/runs/{run}/batch", {"content": b'{"metrics": [', "headers": {"content-type": "application/json"}}, 400, "BAD_REQUEST", "body"),
    ("not UTF-8", "POST", "/api/v1/experiments", {"content": b"\xff\xfe{}", "headers": {"content-type": "application/json"}}, 400, "BAD_REQUEST", "body"),
    ("unknown top-level field", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [GOOD], "bogus": 1}}, 422, "INVALID_INPUT", "bogus"),
    ("unknown experiment field", "POST", "/api/v1/experiments", {"json": {"name": "x", "owner": "me"}}, 422, "INVALID_INPUT", "owner"),
    ("unknown point field", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": [{**GOOD, "unit": "s"}]}}, 422, "INVALID_INPUT", "metrics[0].unit"),
    ("unknown column", "POST", "/api/v1/runs/{run}/batch", {"json": {"metrics": {"key": ["a"], "value": [1], "unit": ["s"]}}}, 422, "INVALID_INPUT", "metrics.unit"),
    ("unknown input field", "POST", "/api/v1/runs/{run}/inputs", {"json": {"inputs": [{"dataset": "d", "weight": 2}]}}, 422, "INVALID_INPUT", "inputs[0].weight"),
    ("body of the wrong type", "POST", "/api/v1/runs/{run}/batch", {"json": [GOOD]}, 422, "INVALID_INPUT", "body"),
    ("empty experiment name", "POST", "/api/v1/experiments", {"json": {"name": ""}}, 422, "INVALID_INPUT", "name"),
    ("experiment name over 250", "POST", "/api/v1/experiments", {"json": {"name": "n" * 251}}, 422, "INVALID_INPUT", "name"),
    ("duplicate experiment", "POST", "/api/v1/experiments", {"json": {"name": "churn"}}, 409, "ALREADY_EXISTS", "name"),
    ("duplicate run id", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "run_id": "{run}"}}, 409, "ALREADY_EXISTS", "run_id"),
    ("run id not hex", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "run_id": "Z" * 32}}, 422, "INVALID_INPUT", "run_id"),
    ("start time over 64 bits", "POST", "/api/v1/runs", {"json": {"experiment_id": "{exp}", "start_time": 2**64}}, 422, "INVALID_INPUT", "start_time"),
    ("history without key", "GET", "/api/v1/runs/{run}/metric-history", {}, 422, "INVALID_INPUT", "key"),
    ("negative audit since", "GET", "/api/v1/audit?since=-1", {}, 422, "INVALID_INPUT", "since"),
    ("traversal, encoded", "PUT", "/api/v1/runs/{run}/artifacts/..%2F..%2Fetc%2Fpasswd", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("traversal, mid-path", "PUT", "/api/v1/runs/{run}/artifacts/a%2F..%2F..%2Fb", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("absolute path", "PUT", "/api/v1/runs/{run}/artifacts/%2Fetc%2Fpasswd", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("drive path", "PUT", "/api/v1/runs/{run}/artifacts/C:%2Fwindows%2Fx", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("backslashes", "PUT", "/api/v1/runs/{run}/artifacts/..%5C..%5Cetc%5Cpasswd", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("NUL byte", "PUT", "/api/v1/runs/{run}/artifacts/a%00b", {"content": b"pwned"}, 422, "INVALID_INPUT", "path"),
    ("traversal on download", "GET", "/api/v1/runs/{run}/artifacts/..%2F..%2Fetc%2Fpasswd", {}, 422, "INVALID_INPUT", "path"),
    ("traversal in a listing prefix", "GET", "/api/v1/runs/{run}/artifacts?prefix=..%2F..", {}, 422, "INVALID_INPUT", "path"),
    ("unknown route", "GET", "/api/v1/nothing-here", {}, 404, "NOT_FOUND", None),
    ("wrong method", "PUT", "/api/v1/experiments", {"json": {}}, 405, "METHOD_NOT_ALLOWED", None),
]


def _fill(value: Any, world: dict[str, str]) -> Any:  # Any: JSON-like request parts
    if isinstance(value, str):
        return value.replace("{run}", world["run"]).replace("{done}", world["done"]).replace("{exp}", world["exp"])
    if isinstance(value, dict):
        return {_fill(k, world): _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


@dataclass
class Shared:
    """One store, app and client for the whole bad-request table (per backend)."""

    services: Services
    api: httpx.Client
    world: dict[str, str]


@pytest.fixture(scope="module")
def shared(shared_settings: Settings, sync_asgi_transport: Any) -> Iterator[Shared]:  # Any: the transport class
    from steward.server import create_app

    services = build_services(shared_settings)
    transport = sync_asgi_transport(create_app(shared_settings, services))
    with httpx.Client(transport=transport, base_url="http://steward.test") as client:
        yield Shared(services, client, _make_world(client))
    services.close()


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "code", "field"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_the_one_error_shape_and_leave_nothing_behind(
    shared: Shared,
    method: str,
    url: str,
    kwargs: dict[str, Any],  # Any: request kwargs
    status: int,
    code: str,
    field: str | None,
) -> None:
    before = snapshot(shared.services)

    resp = shared.api.request(method, _fill(url, shared.world), **_fill(kwargs, shared.world))

    assert resp.status_code != 500
    assert_error(resp, status, code, field)
    assert snapshot(shared.services) == before


def test_the_error_shape_is_pinned(api: httpx.Client) -> None:
    resp = api.get(f"/api/v1/runs/{UNKNOWN_RUN}")
    assert resp.status_code == 404
    assert resp.json() == {"error": {"code": "NOT_FOUND", "message": f"run '{UNKNOWN_RUN}' not found", "field": "run_id"}}


def test_a_filter_syntax_error_names_its_position(api: httpx.Client) -> None:
    err = assert_error(api.post("/api/v1/runs/search", json={"filter": "metrics.auc > 0.9 and and"}), 400, "INVALID_FILTER", "filter")
    assert "position 22" in err["message"]
    err = assert_error(api.get("/api/v1/runs", params={"filter": "params.model = 'gbm"}), 400, "INVALID_FILTER", "filter")
    assert "position" in err["message"]


def test_a_non_numeric_value_is_named_by_its_exact_point(api: httpx.Client, world: dict[str, str]) -> None:
    points = [{"key": "loss", "value": i * 0.1, "step": i} for i in range(5)]
    points[3]["value"] = "0.3"  # a string, even a numeric-looking one, is not a number
    err = assert_error(api.post(f"/api/v1/runs/{world['run']}/batch", json={"metrics": points}), 422, "INVALID_INPUT", "metrics[3].value")
    assert "metrics[3].value" in err["message"]


@pytest.mark.parametrize("shape", ["points", "columns", "json tokens"])
def test_nan_and_infinities_are_stored_faithfully(api: httpx.Client, services: Services, world: dict[str, str], shape: str) -> None:
    run = world["run"]
    if shape == "points":
        body: Any = {"metrics": [{"key": "v", "value": v, "step": i} for i, v in enumerate(["NaN", "Infinity", "-Infinity", 1.5])]}  # Any: JSON
        resp = api.post(f"/api/v1/runs/{run}/batch", json=body)
    elif shape == "columns":
        body = {"metrics": {"key": ["v"] * 4, "value": ["NaN", "Infinity", "-Infinity", 1.5], "step": [0, 1, 2, 3], "timestamp": [1, 2, 3, 4]}}
        resp = api.post(f"/api/v1/runs/{run}/batch", json=body)
    else:
        # Python's json (and so the server) accepts JavaScript's bare NaN / Infinity tokens
        raw = b'{"metrics": {"key": ["v", "v", "v", "v"], "value": [NaN, Infinity, -Infinity, 1.5], "step": [0, 1, 2, 3]}}'
        resp = api.post(f"/api/v1/runs/{run}/batch", content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 200, resp.text

    history = api.get(f"/api/v1/runs/{run}/metric-history", params={"key": "v"}).json()["metrics"]
    assert [m["value"] for m in history] == ["NaN", "Infinity", "-Infinity", 1.5]
    stored = [m.value for m in services.tracking().get_metric_history(run, "v")]
    assert math.isnan(stored[0]) and stored[1:] == [math.inf, -math.inf, 1.5]

    # the latest point's value is the run's value, and a non-finite latest value survives too
    api.post(f"/api/v1/runs/{run}/batch", json={"metrics": [{"key": "w", "value": "-Infinity", "step": 9}]})
    got = api.get(f"/api/v1/runs/{run}").json()["metrics"]
    assert got["v"]["value"] == 1.5 and got["w"]["value"] == "-Infinity"


@pytest.mark.parametrize("bad_at", [0, 500, 999])
@pytest.mark.parametrize("shape", ["points", "columns"])
def test_a_batch_with_999_good_points_and_one_bad_stores_nothing(shared: Shared, shape: str, bad_at: int) -> None:
    api, services, world = shared.api, shared.services, shared.world
    values: list[Any] = [i / 1000 for i in range(1000)]  # Any: a float or the one bad value
    values[bad_at] = {"not": "a number"}
    if shape == "points":
        body: Any = {"metrics": [{"key": "loss", "value": v, "step": i} for i, v in enumerate(values)], "params": {"new": 1}, "tags": {"t": "x"}}  # Any: JSON
        field = f"metrics[{bad_at}].value"
    else:
        body = {"metrics": {"key": ["loss"] * 1000, "value": values, "step": list(range(1000))}, "params": {"new": 1}, "tags": {"t": "x"}}
        field = f"metrics.value[{bad_at}]"
    before = snapshot(services)

    assert_error(api.post(f"/api/v1/runs/{world['run']}/batch", json=body), 422, "INVALID_INPUT", field)

    assert snapshot(services) == before
    assert api.get(f"/api/v1/runs/{world['run']}/metric-history", params={"key": "loss"}).json()["metrics"] == []
    run = api.get(f"/api/v1/runs/{world['run']}").json()
    assert run["params"] == {"k": "v"} and run["tags"] == {} and run["metrics"] == {}


def test_good_metrics_with_one_bad_param_store_nothing(api: httpx.Client, services: Services, world: dict[str, str]) -> None:
    before = snapshot(services)
    body = {"metrics": [{"key": "loss", "value": i, "step": i} for i in range(999)], "params": {"ok": 1, "k" * 251: 2}}
    assert_error(api.post(f"/api/v1/runs/{world['run']}/batch", json=body), 422, "INVALID_INPUT")
    body = {"metrics": [{"key": "loss", "value": i, "step": i} for i in range(999)], "params": {"ok": 1, "k": "changed"}}
    assert_error(api.post(f"/api/v1/runs/{world['run']}/batch", json=body), 409, "CONFLICT", "params.k")
    assert snapshot(services) == before


@pytest.fixture
def small_api(settings: Settings, services: Services, asgi_client: Callable[[Any], httpx.Client]) -> httpx.Client:
    """The app with a 2 KiB body limit, sharing the store of ``api``."""
    from steward.server import create_app

    return asgi_client(create_app(settings.model_copy(update={"max_request_bytes": 2048}), services))


def test_a_body_over_the_size_limit_is_413_whether_declared_or_streamed(small_api: httpx.Client, services: Services, world: dict[str, str]) -> None:
    before = snapshot(services)
    big = {"metrics": [{"key": "loss", "value": i, "step": i} for i in range(200)]}
    assert_error(small_api.post(f"/api/v1/runs/{world['run']}/batch", json=big), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Any:  # Any: an iterator of bytes, sent without Content-Length
        for _ in range(10):
            yield b"x" * 1000

    assert_error(small_api.put(f"/api/v1/runs/{world['run']}/artifacts/big.bin", content=chunks()), 413, "PAYLOAD_TOO_LARGE")
    assert snapshot(services) == before
    assert small_api.post(f"/api/v1/runs/{world['run']}/batch", json={"metrics": [GOOD]}).status_code == 200


def test_path_traversal_writes_nothing_outside_the_store(api: httpx.Client, world: dict[str, str], tmp_path: Path) -> None:
    before = sorted(p for p in tmp_path.rglob("*") if "blobs" not in p.parts)
    for name in ["..%2F..%2F..%2Fpwned.txt", "..%2Fpwned.txt", "%2Ftmp%2Fpwned.txt", "..%5C..%5Cpwned.txt", "a%2F..%2F..%2F..%2Fpwned.txt"]:
        resp = api.put(f"/api/v1/runs/{world['run']}/artifacts/{name}", content=b"pwned")
        assert 400 <= resp.status_code < 500, (name, resp.text)
    assert sorted(p for p in tmp_path.rglob("*") if "blobs" not in p.parts) == before
    assert not list(tmp_path.parent.glob("pwned.txt")) and not Path("/tmp/pwned.txt").exists()
    assert api.get(f"/api/v1/runs/{world['run']}/artifacts").json()["artifacts"] == []


class _Boom(Exception):
    pass


def test_each_error_class_reaches_clients_with_its_status_and_code_and_a_bug_never_leaks(
    app: Any, asgi_client: Callable[[Any], httpx.Client]  # Any: FastAPI
) -> None:
    """Routes raise the error tree; the server answers with the class's own status and code."""
    classes = [getattr(errors, name) for name in errors.__all__]

    def raise_named(name: str) -> None:
        if name == "Bug":
            raise _Boom("secret=hunter2 in a SELECT")
        cls = getattr(errors, name)
        if cls is errors.FilterSyntaxError:
            raise cls("unexpected ')'", position=7)
        raise cls(f"{name} happened", field="thing")

    app.add_api_route("/test-only/raise/{name}", raise_named, methods=["GET"])
    client = asgi_client(app)
    for cls in classes:
        resp = client.get(f"/test-only/raise/{cls.__name__}")
        assert resp.status_code == cls.status, cls
        assert resp.json()["error"]["code"] == cls.code
    resp = client.get("/test-only/raise/Bug")
    assert resp.status_code == 500
    assert resp.json() == {"error": {"code": "INTERNAL_ERROR", "message": "internal error; see the server log"}}


def test_the_live_server_answers_bad_input_with_json_errors_and_keeps_nothing(live_server: Any) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        exp = api.post("/api/v1/experiments", json={"name": "live"}).json()
        run = api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}).json()["run_id"]
        url = f"/api/v1/runs/{run}"
        assert_error(api.get(f"/api/v1/runs/{UNKNOWN_RUN}"), 404, "NOT_FOUND", "run_id")
        bad = {"metrics": [{"key": "loss", "value": i, "step": i} for i in range(999)] + [{"key": "loss", "value": "oops"}]}
        assert_error(api.post(f"{url}/batch", json=bad), 422, "INVALID_INPUT", "metrics[999].value")
        assert_error(api.post(f"{url}/batch", content=b"{", headers={"content-type": "application/json"}), 400, "BAD_REQUEST", "body")
        assert_error(api.post("/api/v1/runs/search", json={"filter": "metrics.a >"}), 400, "INVALID_FILTER", "filter")
        assert_error(api.post(f"{url}/batch", json={"params": {"p": "v" * 6001}}), 422, "INVALID_INPUT", "params.p")
        assert_error(api.put(f"{url}/artifacts/..%2F..%2Fetc%2Fpasswd", content=b"x"), 422, "INVALID_INPUT", "path")
        assert api.get(f"{url}/metric-history", params={"key": "loss"}).json()["metrics"] == []
        api.patch(url, json={"status": "finished"})
        assert_error(api.post(f"{url}/batch", json={"metrics": [GOOD]}), 409, "CONFLICT", "run_id")
        assert api.get(f"{url}/artifacts").json()["artifacts"] == []
