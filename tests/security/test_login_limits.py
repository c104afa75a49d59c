"""The attacks on credentials: guess passwords while rotating a forged ``X-Forwarded-For``,
spray bad tokens from an address other users share, hammer the server to flood the audit
trail, and mint a token that never expires. Each is refused in the JSON error shape, the
refusal is audited (a 429 burst as one entry with its count) and nothing is stored;
meanwhile a valid token keeps working.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.core import AuditEntry
from steward.errors import PermissionDeniedError
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services

PASSWORD = "correct horse battery"


@pytest.fixture
def people(services: Services) -> dict[str, str]:
    """An administrator (root, with a password), a contributor (alice, with a password) and
    a contributor (bob); the tokens of root and bob."""
    gov = services.governance("setup")
    root = gov.bootstrap_admin("root", "root@example.com", password=PASSWORD).secret
    gov = services.governance("root")
    gov.create_user("alice", "alice@example.com", password=PASSWORD)
    gov.create_user("bob", "bob@example.com")
    for name in ("alice", "bob"):
        gov.grant_role(name, "*", "contributor")
    return {"root": root, "bob": gov.create_token("bob").secret}


def _app(settings: Settings, services: Services, **overrides: Any) -> Any:  # Any: FastAPI
    strict = settings.model_copy(update={"auth": "on", "auth_max_failures": 3, **overrides})
    return create_app(strict, Services(strict, services.store, services.blobs))


def _denials(services: Services) -> list[AuditEntry]:
    return [e for e in services.store.list_audit() if e.action == "auth.denied"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_forged_x_forwarded_for_rotation_does_not_escape_the_limiter(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services))
    answers = [
        api.post("/api/v1/experiments", json={"name": f"stolen-{i}"}, auth=("root", f"guess-{i}"),
                 headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(8)
    ]
    assert [r.status_code for r in answers] == [401] * 3 + [429] * 5
    refused = answers[-1].json()["error"]
    assert refused["code"] == "RATE_LIMITED" and "retry" in refused["message"] and int(answers[-1].headers["retry-after"]) > 0
    # the limited address does not even get its password checked, the right one included
    right = api.get("/api/v1/experiments", auth=("root", PASSWORD), headers={"X-Forwarded-For": "198.51.100.99"})
    assert right.status_code == 429
    denied = _denials(services)
    assert [(e.actor, e.details["client"]) for e in denied] == [("anonymous", "127.0.0.1")] * 3
    assert not any("198.51.100" in repr(e.details) for e in denied)
    assert not any("guess" in repr(e.details) or PASSWORD in repr(e.details) for e in denied)
    assert services.tracking().list_experiments() == []  # nothing was created


def test_with_the_proxy_trusted_the_forwarded_address_is_the_client(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services, trusted_proxies=["127.0.0.1"]))
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    # a client's own X-Forwarded-For entries (left of what the proxy appended) are not believed
    forged = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
    statuses = [api.get("/api/v1/experiments", auth=("alice", f"guess-{i}"), headers=attacker).status_code for i in range(3)]
    statuses.append(api.get("/api/v1/experiments", auth=("alice", "guess-x"), headers=forged).status_code)
    assert statuses == [401, 401, 401, 429]
    # another client behind the same proxy is not affected
    other = {"X-Forwarded-For": "198.51.100.2"}
    assert api.get("/api/v1/experiments", auth=("root", PASSWORD), headers=other).status_code == 200
    assert [e.details["client"] for e in _denials(services)] == ["203.0.113.7"] * 3


def test_rotating_trusted_forwarded_addresses_still_cannot_brute_force_one_password(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services, trusted_proxies=["127.0.0.0/8"]))
    # each guess from a fresh address: the per-address limit never triggers, the user's does
    statuses = [
        api.get("/api/v1/experiments", auth=("alice", f"guess-{i}"), headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(16)
    ]
    assert statuses == [401] * 15 + [429]
    found = api.get("/api/v1/experiments", auth=("alice", PASSWORD), headers={"X-Forwarded-For": "203.0.113.200"})
    assert found.status_code == 429 and found.json()["error"]["code"] == "RATE_LIMITED"
    # alice's token, and other users' passwords, are unaffected
    assert api.get("/api/v1/experiments", auth=("root", PASSWORD), headers={"X-Forwarded-For": "203.0.113.201"}).status_code == 200


def test_a_valid_token_keeps_working_while_an_attacker_on_the_same_address_is_limited(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services))
    sprayed = [api.get("/api/v1/experiments", headers=_bearer(f"stw_spray{i:040d}")).status_code for i in range(5)]
    assert sprayed == [401, 401, 401, 429, 429]
    # bob, behind the same address, is not locked out by the attacker
    created = api.post("/api/v1/experiments", json={"name": "bob-work"}, headers=_bearer(people["bob"]))
    assert created.status_code == 201
    assert api.get("/api/v1/experiments", headers=_bearer(people["bob"])).status_code == 200
    # the attacker stays limited; passwords from the address are refused unchecked
    assert api.get("/api/v1/experiments", headers=_bearer("stw_one-more")).status_code == 429
    assert api.get("/api/v1/experiments", auth=("alice", PASSWORD)).status_code == 429
    assert [e.name for e in services.tracking().list_experiments()] == ["bob-work"]
    assert len([e for e in _denials(services) if e.details.get("status") is None]) == 3


def test_a_429_burst_is_one_audit_entry_with_its_count(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services, auth_max_failures=2, auth_failure_window=1))
    answers = [api.get("/api/v1/runs/" + "0" * 32, auth=("alice", f"guess-{i}")) for i in range(12)]
    assert [r.status_code for r in answers] == [401, 401] + [429] * 10
    assert all(r.json()["error"]["code"] == "RATE_LIMITED" for r in answers[2:])
    assert len(_denials(services)) == 2  # the burst is still being counted
    time.sleep(1.1)
    assert api.get("/healthz").status_code == 200  # any request closes bursts whose window passed
    denied = _denials(services)
    assert len(denied) == 3
    burst = denied[-1]
    assert burst.actor == "anonymous" and burst.target == "/api/v1/runs/" + "0" * 32
    assert burst.details["status"] == 429 and burst.details["count"] == 10
    assert burst.details["user"] == "alice" and burst.details["client"] == "127.0.0.1"
    assert int(str(burst.details["first_at"])) <= int(str(burst.details["last_at"]))
    assert services.audit().verify().intact


def test_requests_without_credentials_are_audited_as_one_burst_written_at_shutdown(
    settings: Settings, services: Services, people: dict[str, str]
) -> None:
    app = _app(settings, services)

    async def flood() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://steward.test") as api:
            statuses = [(await api.get("/api/v1/experiments")).status_code for _ in range(25)]
            assert len(_denials(services)) == 0
            return statuses

    assert asyncio.run(flood()) == [401] * 25
    denied = _denials(services)
    assert len(denied) == 1
    assert denied[0].details["status"] == 401 and denied[0].details["count"] == 25 and "user" not in denied[0].details


def test_a_refusal_from_the_permission_check_is_audited_exactly_once(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services))
    response = api.post("/api/v1/users", json={"name": "mallory", "email": "m@example.com", "is_admin": True}, headers=_bearer(people["bob"]))
    assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"
    denied = _denials(services)
    assert [(e.actor, e.target) for e in denied] == [("bob", "/api/v1/users")]
    assert [u.name for u in services.governance("t").list_users()] == ["alice", "bob", "root"]


# -- token lifetime ---------------------------------------------------------------------


def test_a_non_admin_cannot_create_a_never_expiring_or_over_long_token(
    settings: Settings, services: Services, people: dict[str, str], asgi_client: Any
) -> None:
    api = asgi_client(_app(settings, services, max_token_days=30))
    bob = _bearer(people["bob"])
    before = len(services.governance("t").list_tokens("bob"))
    forever = api.post("/api/v1/tokens", json={"expires_in_days": None}, headers=bob)
    assert forever.status_code == 403
    error = forever.json()["error"]
    assert error["code"] == "PERMISSION_DENIED" and error["field"] == "expires_in_days" and "never expire" in error["message"]
    too_long = api.post("/api/v1/tokens", json={"expires_in_days": 31}, headers=bob)
    assert too_long.status_code == 403 and "at most 30 days" in too_long.json()["error"]["message"]
    assert len(services.governance("t").list_tokens("bob")) == before  # nothing was issued
    # the refusals came from the service, after the permission check: both audited, once each
    denied = [(e.actor, e.target, e.details["reason"]) for e in _denials(services)]
    assert [(a, t) for a, t, _ in denied] == [("bob", "/api/v1/tokens")] * 2
    assert "never expire" in str(denied[0][2]) and "30 days" in str(denied[1][2])
    assert api.post("/api/v1/tokens", json={"expires_in_days": 30}, headers=bob).status_code == 201
    # administrators are not capped
    admin = api.post("/api/v1/tokens", json={"expires_in_days": None, "label": "ci"}, headers=_bearer(people["root"]))
    assert admin.status_code == 201 and admin.json()["token"]["expires_at"] is None


def test_the_local_cli_cannot_mint_a_never_expiring_token_for_a_non_admin_either(services: Services, people: dict[str, str]) -> None:
    gov = Services(services.settings.model_copy(update={"max_token_days": 30}), services.store, services.blobs).governance("ops")
    with pytest.raises(PermissionDeniedError) as caught:
        gov.create_token("bob", expires_in_days=None)
    assert caught.value.field == "expires_in_days"
    assert gov.create_token("root", expires_in_days=None).token.expires_at is None


# -- the real server --------------------------------------------------------------------


@pytest.fixture
def live_auth_server(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    """``steward server`` (uvicorn) with authentication on, its default proxy settings."""
    settings = Settings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'steward.db'}",
        artifact_root=str(tmp_path / "artifacts"), user="setup", capture_git=False, auth="off",
    )
    from steward.wiring import build_services

    services = build_services(settings)
    services.governance("setup").bootstrap_admin("root", "root@example.com", password=PASSWORD)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_") and k != "FORWARDED_ALLOW_IPS"}
    env.update(
        STEWARD_HOME=str(settings.home), STEWARD_DATABASE_URL=settings.resolved_database_url(),
        STEWARD_ARTIFACT_ROOT=settings.resolved_artifact_root(), STEWARD_AUTH="on", STEWARD_AUTH_MAX_FAILURES="3",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
        yield url, services
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        services.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_real_server_does_not_believe_a_local_clients_x_forwarded_for(live_auth_server: tuple[str, Services]) -> None:
    # uvicorn on its own believes X-Forwarded-For from any loopback peer; `steward server`
    # believes only STEWARD_TRUSTED_PROXIES (none here)
    url, services = live_auth_server
    statuses = [
        httpx.get(f"{url}/api/v1/experiments", auth=("root", f"guess-{i}"), headers={"X-Forwarded-For": f"198.51.100.{i}"}, timeout=10).status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    assert [e.details["client"] for e in _denials(services)] == ["127.0.0.1"] * 3
