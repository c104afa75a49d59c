"""The attack: get a secret's value into the server's logs or into stored run data.

A secret is set by *another process* (``steward secrets set``) after the server started;
the server must mask it in its logs anyway, written plainly or URL-encoded, JSON-escaped
or base64-encoded. Logging the value as a param, tag or metric is refused on every face
(REST v1, the MLflow-compatible API, the embedded SDK) with an error that names the
secret and never the value; the refusal is audited and nothing is stored.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from steward.errors import InvalidInputError
from steward.governance import MASK, Redactor, generate_master_key
from steward.sdk import Client
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services

NAME = "PAYMENTS_API_KEY"
# quotes, a slash, a plus, a space and a non-ASCII letter: every encoding differs from it
VALUE = 'sk-live/9f+Qx "züri" 0042'


def _forms(value: str) -> dict[str, str]:
    raw = value.encode("utf-8")
    return {
        "plain": value,
        "quote": quote(value, safe=""),
        "quote-path": quote(value),
        "quote_plus": quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "json-unicode": json.dumps(value, ensure_ascii=False)[1:-1],
        "base64": base64.b64encode(raw).decode(),
        "base64-unpadded": base64.b64encode(raw).decode().rstrip("="),
        "urlsafe-base64": base64.urlsafe_b64encode(raw).decode(),
        "urlsafe-base64-unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "basic-auth-header": base64.b64encode(b"svc:" + raw).decode(),
    }


@pytest.fixture
def keyed(settings: Settings, services: Services) -> Services:
    """The server's services: a master key in the settings (works on PostgreSQL too)."""
    with_key = settings.model_copy(update={"master_key": SecretStr(generate_master_key())})
    return Services(with_key, services.store, services.blobs)


def _other_process_sets(settings: Settings, name: str, value: str) -> None:
    """``steward secrets set NAME`` in a separate Python process, on the same store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    assert settings.master_key is not None
    env.update(
        STEWARD_HOME=str(settings.home),
        STEWARD_DATABASE_URL=settings.resolved_database_url(),
        STEWARD_ARTIFACT_ROOT=settings.resolved_artifact_root(),
        STEWARD_MASTER_KEY=settings.master_key.get_secret_value(),
        STEWARD_USER="ops",
    )
    done = subprocess.run(
        [sys.executable, "-m", "steward", "secrets", "set", name], input=value, text=True,
        env=env, capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_secret_set_by_another_process_after_start_is_masked_in_the_server_logs_in_every_form(
    keyed: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app(keyed.settings, keyed)
    logger = logging.getLogger("steward.server")

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://steward.test") as api:
            assert (await api.get("/healthz")).status_code == 200
            assert not keyed.redactor.contains(VALUE)  # the server started before the secret existed
            await asyncio.to_thread(_other_process_sets, keyed.settings, NAME, VALUE)
            # the redactor looks at the store at most once a second, from the logging path
            await asyncio.sleep(1.1)
            for label, form in _forms(VALUE).items():
                logger.warning("upstream refused %s credentials: %s", label, form)
            logger.error(f"retrying with Authorization: Basic {_forms(VALUE)['basic-auth-header']}")

    asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "steward.server" and "credentials" in r.getMessage()]
    assert len(lines) == len(_forms(VALUE))
    for (label, form), line in zip(_forms(VALUE).items(), lines, strict=True):
        # inside a longer base64 text only the characters that carry the user name stay
        assert form not in line and line.endswith(MASK), (label, line)
        assert line.endswith(f": {MASK}") or label == "basic-auth-header"
    basic = [r.getMessage() for r in caplog.records if "Authorization: Basic" in r.getMessage()]
    assert len(basic) == 1 and basic[0].endswith(MASK) and _forms(VALUE)["basic-auth-header"] not in basic[0]
    assert VALUE not in caplog.text and _forms(VALUE)["quote"] not in caplog.text
    # the other process's write is in the audit trail, by name only
    sets = keyed.store.list_audit(target=f"secrets:/{NAME}")
    assert [(e.actor, e.action) for e in sets] == [("ops", "secrets.set")]
    assert VALUE not in repr(sets)


@pytest.fixture
def live_sqlite_server(tmp_path: Path) -> Iterator[tuple[str, Settings, subprocess.Popen[bytes]]]:
    """A real ``steward server`` (uvicorn, its own access log) on a SQLite store."""
    port = _free_port()
    settings = Settings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'steward.db'}", artifact_root=str(tmp_path / "artifacts"),
        master_key=SecretStr(generate_master_key()), auth="off",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    assert settings.master_key is not None
    env.update(
        STEWARD_HOME=str(settings.home), STEWARD_DATABASE_URL=settings.resolved_database_url(),
        STEWARD_ARTIFACT_ROOT=settings.resolved_artifact_root(), STEWARD_MASTER_KEY=settings.master_key.get_secret_value(),
        STEWARD_AUTH="off", STEWARD_USER="server",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited early"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, settings, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_access_log_of_a_real_server_masks_a_secret_another_process_set_after_it_started(
    live_sqlite_server: tuple[str, Settings, subprocess.Popen[bytes]],
) -> None:
    url, settings, proc = live_sqlite_server
    _other_process_sets(settings, NAME, VALUE)
    time.sleep(1.1)
    forms = _forms(VALUE)
    # a client that put the key in a URL: the access log line carries the encoded forms
    for label in ("quote", "quote_plus", "urlsafe-base64-unpadded"):
        response = httpx.get(f"{url}/api/v1/experiments?api_key={forms[label]}&label={label}", timeout=10)
        assert response.status_code == 200
    proc.terminate()
    assert proc.stdout is not None
    log = proc.stdout.read().decode("utf-8", "replace")
    proc.wait(timeout=15)
    access = [line for line in log.splitlines() if "GET /api/v1/experiments" in line]
    assert len(access) == 3, log[-3000:]
    for line in access:
        assert f"api_key={MASK}&label=" in line, line
    for form in forms.values():
        assert form not in log


# -- params, tags and metrics ------------------------------------------------------------


@pytest.fixture
def api(keyed: Services, asgi_client: object) -> httpx.Client:
    client: httpx.Client = asgi_client(create_app(keyed.settings, keyed))  # type: ignore[operator]
    return client


def _refusals(services: Services) -> list[tuple[str, str, object]]:
    return [(e.action, e.target, e.details.get("field")) for e in services.store.list_audit(target=f"secrets:/{NAME}") if e.action == "secrets.refused"]


def test_a_param_or_tag_equal_to_a_secret_set_a_moment_ago_elsewhere_is_refused_on_v1_naming_the_secret(
    keyed: Services, api: httpx.Client
) -> None:
    experiment = api.post("/api/v1/experiments", json={"name": "payments"}).json()["experiment_id"]
    run_id = api.post("/api/v1/runs", json={"experiment_id": experiment}).json()["run_id"]
    assert api.get(f"/api/v1/runs/{run_id}").status_code == 200  # the server is serving before the secret exists
    # a second, independent set of services on the same store: another process's writes
    other = Services(keyed.settings, keyed.store, keyed.blobs)
    other.secrets("ops").set_secret(NAME, VALUE)

    param = api.post(f"/api/v1/runs/{run_id}/batch", json={"params": {"api_key": VALUE, "lr": "0.1"}})
    assert param.status_code == 422
    error = param.json()["error"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == "params.api_key"
    assert NAME in error["message"] and VALUE not in param.text
    in_url = api.post(f"/api/v1/runs/{run_id}/batch", json={"tags": {"db": f"https://svc:{quote(VALUE, safe='')}@pay.example"}})
    assert in_url.status_code == 422 and in_url.json()["error"]["field"] == "tags.db" and NAME in in_url.text
    new_run = api.post("/api/v1/runs", json={"experiment_id": experiment, "params": {"token": VALUE}})
    assert new_run.status_code == 422 and NAME in new_run.text

    run = api.get(f"/api/v1/runs/{run_id}").json()
    assert run["params"] == {} and not any(VALUE in str(v) for v in run["tags"].values())  # nothing stored, not even lr
    assert len(api.post("/api/v1/runs/search", json={"experiments": [experiment]}).json()["runs"]) == 1
    assert _refusals(keyed) == [
        ("secrets.refused", f"secrets:/{NAME}", "params.api_key"),
        ("secrets.refused", f"secrets:/{NAME}", "tags.db"),
        ("secrets.refused", f"secrets:/{NAME}", "params.token"),
    ]
    assert VALUE not in repr(keyed.store.list_audit())


def test_the_mlflow_api_refuses_a_secret_param_tag_or_metric_in_its_own_error_shape(keyed: Services, api: httpx.Client) -> None:
    keyed.secrets("ops").set_secret(NAME, VALUE)
    keyed.secrets("ops").set_secret("PIN_CODE", "31415926")  # a secret that reads as a number
    experiment = api.post("/api/2.0/mlflow/experiments/create", json={"name": "payments"}).json()["experiment_id"]
    run_id = api.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment}).json()["run"]["info"]["run_id"]

    attempts = [
        ("runs/log-parameter", {"run_id": run_id, "key": "api_key", "value": VALUE}, NAME),
        ("runs/set-tag", {"run_id": run_id, "key": "note", "value": VALUE}, NAME),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "k", "value": VALUE}]}, NAME),
        ("runs/log-metric", {"run_id": run_id, "key": "pin", "value": 31415926, "timestamp": 1, "step": 0}, "PIN_CODE"),
    ]
    for route, body, secret in attempts:
        response = api.post(f"/api/2.0/mlflow/{route}", json=body)
        assert response.status_code == 400, (route, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert secret in response.json()["message"] and VALUE not in response.text and "31415926" not in response.text

    got = api.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert got.get("params", []) == [] and got.get("metrics", []) == []
    assert all(t["value"] != VALUE for t in got.get("tags", []))
    refused = [(e.target, e.details["field"]) for e in keyed.store.list_audit() if e.action == "secrets.refused"]
    assert refused == [
        (f"secrets:/{NAME}", "params.api_key"),
        (f"secrets:/{NAME}", "tags.note"),
        (f"secrets:/{NAME}", "params.k"),
        ("secrets:/PIN_CODE", "metrics[0]"),
    ]


def test_the_embedded_sdk_refuses_a_param_equal_to_a_secret_set_by_another_process(keyed: Services) -> None:
    client = Client(keyed.settings.model_copy(update={"capture_packages": False, "capture_git": False}))
    try:
        run = client.start_run("payments", capture=False)
        run.log_param("lr", 0.1)
        _other_process_sets(keyed.settings, NAME, VALUE)
        with pytest.raises(InvalidInputError) as caught:
            run.log_param("api_key", VALUE)
        assert caught.value.field == "params.api_key" and NAME in caught.value.message and VALUE not in caught.value.message
        with pytest.raises(InvalidInputError):
            run.set_tag("key", VALUE)
        run.end()
        stored = client.get_run(run.run_id)
    finally:
        client.close()
    assert stored.params == {"lr": "0.1"} and VALUE not in repr(stored.tags)
    assert [field for _action, _target, field in _refusals(keyed)] == ["params.api_key", "tags.key"]


def test_the_logging_path_asks_the_store_at_most_once_a_second_however_much_is_logged(settings: Settings, services: Services) -> None:
    now = [1000.0]
    redactor = Redactor(clock=lambda: now[0])
    watched = Services(settings, services.store, services.blobs, redactor)
    looks: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM secrets" in statement and "count(" in statement.lower():
            looks.append(statement)

    sa.event.listen(watched.store.engine, "before_cursor_execute", count)
    try:
        for i in range(2000):
            redactor.contains(f"GET /api/v1/runs/{i} 200")
        assert len(looks) == 1
        now[0] += 0.5
        redactor.contains("still within the second")
        assert len(looks) == 1
        now[0] += 0.6
        redactor.contains("a second later")
        assert len(looks) == 2
    finally:
        sa.event.remove(watched.store.engine, "before_cursor_execute", count)
