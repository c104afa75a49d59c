"""The webhooks API with authentication on: a webhook is its project's; a viewer cannot create
one; another project's contributor can neither create one on this project nor see, test,
redeliver or delete its hooks and deliveries; the secret never comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.core.permissions import Role
from steward.settings import Settings
from steward.wiring import Services, build_services
from webhook_testing import SECRET, Receiver, receiver, register_model

USERS = {"viewer-alpha": (Role.VIEWER, "alpha"), "contrib-alpha": (Role.CONTRIBUTOR, "alpha"), "contrib-beta": (Role.CONTRIBUTOR, "beta")}


class Team:
    def __init__(self, root: Path, hook: Receiver) -> None:
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, capture_packages=False, auth_max_failures=1_000_000,
                                 allow_private_urls=True)  # the receivers listen on loopback (the guard: test_webhooks_egress.py)
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        self.tokens: dict[str, str] = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
        for name, (role, project) in USERS.items():
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name, scopes=("read", "write")).secret
        self.receiver = hook
        self.body = {"name": "alpha-ci", "url": hook.url, "project": "alpha", "events": ["*"], "secret": SECRET}
        from steward.server import create_app

        self.app = create_app(self.settings, self.services)

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
            headers.update(kwargs.pop("headers", {}))
            async with httpx.AsyncClient(transport=transport, base_url="http://steward.test", headers=headers) as c:
                return await c.request(method, f"/api/v1{path}", **kwargs)

        return asyncio.run(go())

    def ensure_hook(self) -> None:
        if self.call("contrib-alpha", "GET", "/webhooks/alpha-ci").status_code == 404:
            assert self.call("contrib-alpha", "POST", "/webhooks", json=self.body).status_code == 201


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with receiver() as hook:
        t = Team(tmp_path_factory.mktemp("team"), hook)
        yield t
        t.services.close()


def test_a_viewer_cannot_create_or_read_webhooks(team: Team) -> None:
    refused = team.call("viewer-alpha", "POST", "/webhooks", json=team.body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PERMISSION_DENIED"
    team.ensure_hook()
    assert team.call("viewer-alpha", "GET", "/webhooks/alpha-ci").status_code == 403
    # models.write nowhere: even the listing is refused
    assert team.call("viewer-alpha", "GET", "/webhooks").status_code == 403


def test_another_projects_contributor_cannot_touch_this_projects_hooks(team: Team) -> None:
    team.ensure_hook()
    assert team.call("contrib-beta", "POST", "/webhooks", json={**team.body, "name": "spy"}).status_code == 403
    for method, path in (
        ("GET", "/webhooks/alpha-ci"), ("GET", "/webhooks/alpha-ci/deliveries"), ("POST", "/webhooks/alpha-ci/test"),
        ("POST", f"/webhooks/alpha-ci/deliveries/{'0' * 32}/redeliver"), ("DELETE", "/webhooks/alpha-ci"),
    ):
        answer = team.call("contrib-beta", method, path)
        assert answer.status_code == 403, (method, path, answer.text)
    assert team.call("contrib-beta", "GET", "/webhooks").json() == {"webhooks": []}
    # beta's own hook lives in beta and is only beta's
    assert team.call("contrib-beta", "POST", "/webhooks", json={**team.body, "name": "beta-ci", "project": "beta"}).status_code == 201
    assert [w["name"] for w in team.call("contrib-beta", "GET", "/webhooks").json()["webhooks"]] == ["beta-ci"]
    assert "beta-ci" not in team.call("contrib-alpha", "GET", "/webhooks").text
    # only administrators drive the delivery worker through the API; no credentials at all: 401
    assert team.call("contrib-alpha", "POST", "/webhook-deliveries/run").status_code == 403
    assert team.call(None, "GET", "/webhooks", headers={"X-Steward-User": "root"}).status_code == 401


def test_the_contributor_sees_the_delivery_log_and_never_the_secret(team: Team) -> None:
    team.ensure_hook()
    created_again = team.call("contrib-alpha", "POST", "/webhooks", json=team.body)
    assert created_again.status_code == 409
    register_model(team.settings, "fraud", project="alpha")
    ran = team.call("root", "POST", "/webhook-deliveries/run")
    assert ran.status_code == 200, ran.text
    deadline = time.monotonic() + 10
    while "model_version.created" not in team.receiver.events() and time.monotonic() < deadline:
        time.sleep(0.1)  # the app's own worker may have taken the round
        team.call("root", "POST", "/webhook-deliveries/run")
    assert "model_version.created" in team.receiver.events()
    log = team.call("contrib-alpha", "GET", "/webhooks/alpha-ci/deliveries")
    assert log.status_code == 200
    [delivery] = [d for d in log.json()["deliveries"] if d["event"] == "model_version.created"]
    assert delivery["status"] == "succeeded" and delivery["log"][0]["status_code"] == 200
    assert delivery["payload"]["model"]["name"] == "fraud" and delivery["payload"]["project"] == "alpha"
    pinged = team.call("contrib-alpha", "POST", "/webhooks/alpha-ci/test")
    assert pinged.status_code == 200 and pinged.json()["event"] == "ping" and pinged.json()["status"] == "succeeded"
    again = team.call("contrib-alpha", "POST", f"/webhooks/alpha-ci/deliveries/{delivery['delivery_id']}/redeliver")
    assert again.status_code == 200 and again.json()["attempts"] == 2
    everything = " ".join(
        team.call("contrib-alpha", m, p).text for m, p in (("GET", "/webhooks"), ("GET", "/webhooks/alpha-ci"), ("GET", "/webhooks/alpha-ci/deliveries"))
    )
    assert SECRET not in everything + created_again.text + pinged.text
    assert all(got.signed_with(SECRET) for got in team.receiver.got)


def test_bad_bodies_are_4xx_naming_the_field(team: Team) -> None:
    bad = team.call("contrib-alpha", "POST", "/webhooks", json={**team.body, "name": "x2", "url": "ftp://example.com"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
    bad = team.call("contrib-alpha", "POST", "/webhooks", json={**team.body, "name": "x2", "events": ["nope"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "events"
    bad = team.call("contrib-alpha", "POST", "/webhooks", json={**team.body, "name": "x2", "secret": "short"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "secret" and "short" not in bad.text
    assert team.call("contrib-alpha", "POST", "/webhooks", json={**team.body, "unknown": 1}).status_code == 422
    assert team.call("contrib-alpha", "GET", "/webhooks/no-such").status_code == 404
    team.ensure_hook()
    assert team.call("contrib-alpha", "POST", "/webhooks/alpha-ci/deliveries/zz/redeliver").status_code == 422
    assert team.call("contrib-alpha", "GET", "/webhooks/alpha-ci/deliveries", params={"status": "odd"}).status_code == 422
