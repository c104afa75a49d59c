"""The foundation's tracking API tests and the SDK-over-HTTP flow, rerun with authentication on.

The tracking API tests are loaded from ``tests/server/test_tracking_api.py`` and run here
with ``api`` replaced by a client that authenticates as a bootstrapped administrator, on
SQLite and PostgreSQL. The SDK flow runs against ``steward server`` with STEWARD_AUTH=on.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from steward import errors
from steward.sdk import Client
from steward.settings import Settings
from steward.wiring import Services


def _load(relative: str, name: str) -> ModuleType:
    path = Path(__file__).parent.parent / relative
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_tracking = _load("server/test_tracking_api.py", "tracking_api_with_auth")
_http = _load("sdk/test_http_backend.py", "http_backend_with_auth")

# Not rerun: the audit test asserts the X-Steward-User header is trusted (with auth on it is
# not: see test_the_audit_actor_is_the_tokens_user_never_a_header), and the live-server
# test starts its own unauthenticated server (the SDK flow below covers a live auth server);
# the empty-store test finds the bootstrap's own audit entries, as it should.
_NOT_RERUN = {
    "test_listings_answer_json_on_an_empty_store",
    "test_every_mutation_is_in_the_audit_trail_with_the_calling_user",
    "test_the_live_server_serves_the_tracking_api_end_to_end",
}
for _name, _test in vars(_tracking).items():
    if _name.startswith("test_") and _name not in _NOT_RERUN:
        globals()[_name] = _test


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:  # Any: FastAPI
    """Overrides the shared ``app``: the same app with authentication on."""
    from steward.server import create_app

    return create_app(settings.model_copy(update={"auth": "on"}), services)


@pytest.fixture
def api(asgi_transport: Any, services: Services) -> Iterator[httpx.Client]:
    """Overrides the shared ``api``: authenticated as the bootstrapped administrator."""
    token = services.governance("setup").bootstrap_admin("root", "root@example.com").secret
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(transport=asgi_transport, base_url="http://steward.test", headers=headers) as client:
        assert client.get("/api/v1/whoami").json()["authenticated"] is True
        yield client


@pytest.fixture
def auth_server(settings: Settings, services: Services) -> Iterator[tuple[Any, str]]:
    """``steward server`` with STEWARD_AUTH=on and a contributor's token."""
    from live_server import LiveServer
    gov = services.governance("setup")
    gov.bootstrap_admin("root", "root@example.com")
    gov.create_user("alice", "alice@example.com")
    gov.grant_role("alice", "*", "contributor")
    token = gov.create_token("alice").secret
    env = {
        "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(),
        "STEWARD_HOME": str(settings.home),
        "STEWARD_USER": "server",
        "STEWARD_AUTH": "on",
    }
    server = LiveServer(env)
    yield server, token
    server.stop()


@pytest.mark.slow
def test_the_sdk_training_flow_works_over_http_with_a_token(auth_server: tuple[Any, str], settings: Settings, tmp_path: Path) -> None:
    server, token = auth_server
    remote = Client(settings.model_copy(update={"tracking_uri": server.url, "token": SecretStr(token), "user": "ignored"}))
    try:
        run_id = _http._train(remote, tmp_path)
        run = remote.get_run(run_id)
        assert run.user == "alice" and run.status.value == "finished"
    finally:
        remote.close()
    anonymous = Client(settings.model_copy(update={"tracking_uri": server.url, "token": None}))
    try:
        with pytest.raises(errors.AuthenticationError):
            anonymous.get_run(run_id)
    finally:
        anonymous.close()
