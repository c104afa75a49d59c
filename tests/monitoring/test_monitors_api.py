"""The monitors API with authentication on: a monitor is its deployment's project's; a viewer
cannot create, run or delete it; another project's contributor can neither see nor run it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from monitor_testing import build_deployment, log_traffic

from steward.core.permissions import Role
from steward.settings import Settings
from steward.wiring import Services, build_services

USERS = {"viewer-alpha": (Role.VIEWER, "alpha"), "contrib-alpha": (Role.CONTRIBUTOR, "alpha"), "contrib-beta": (Role.CONTRIBUTOR, "beta")}
BODY = {"name": "fraud-drift", "deployment": "fraud-api", "reference": "transactions:1", "window": "1h", "sensitive": ["group"]}


class Team:
    def __init__(self, root: Path) -> None:
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, capture_packages=False, auth_max_failures=1_000_000)
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, (role, project) in USERS.items():
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name, scopes=("read", "write")).secret
        build_deployment(self.services, self.settings, project="alpha")
        log_traffic(self.services, rows=200)
        from steward.server import create_app

        self.app = create_app(self.settings, self.services)

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            headers = {"Authorization": f"Bearer {self.tokens[who]}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://steward.test", headers=headers) as c:
                return await c.request(method, f"/api/v1{path}", **kwargs)

        return asyncio.run(go())


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    t = Team(tmp_path_factory.mktemp("team"))
    yield t
    t.services.close()


def test_a_viewer_cannot_create_run_or_delete_a_monitor(team: Team) -> None:
    refused = team.call("viewer-alpha", "POST", "/monitors", json=BODY)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PERMISSION_DENIED"
    assert team.call("contrib-alpha", "POST", "/monitors", json=BODY).status_code == 201
    assert team.call("viewer-alpha", "POST", "/monitors/fraud-drift/run").status_code == 403
    assert team.call("viewer-alpha", "DELETE", "/monitors/fraud-drift").status_code == 403
    shown = team.call("viewer-alpha", "GET", "/monitors/fraud-drift")
    assert shown.status_code == 200 and shown.json()["project"] == "alpha" and shown.json()["results"] == []


def test_another_projects_contributor_can_neither_see_nor_run_it(team: Team) -> None:
    if team.call("contrib-alpha", "GET", "/monitors/fraud-drift").status_code == 404:
        assert team.call("contrib-alpha", "POST", "/monitors", json=BODY).status_code == 201
    for method, path in (("GET", "/monitors/fraud-drift"), ("POST", "/monitors/fraud-drift/run"), ("DELETE", "/monitors/fraud-drift")):
        answer = team.call("contrib-beta", method, path)
        assert answer.status_code == 403, (method, path, answer.text)
    listing = team.call("contrib-beta", "GET", "/monitors")
    assert listing.status_code == 200 and listing.json() == {"monitors": []}
    # nor create one on alpha's deployment from beta
    assert team.call("contrib-beta", "POST", "/monitors", json={**BODY, "name": "spy"}).status_code == 403


def test_the_contributor_runs_it_and_reads_the_window(team: Team) -> None:
    if team.call("contrib-alpha", "GET", "/monitors/fraud-drift").status_code == 404:
        assert team.call("contrib-alpha", "POST", "/monitors", json=BODY).status_code == 201
    ran = team.call("contrib-alpha", "POST", "/monitors/fraud-drift/run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] in ("ok", "insufficient_data")
    shown = team.call("viewer-alpha", "GET", "/monitors/fraud-drift").json()
    assert [r["id"] for r in shown["results"]] == [ran.json()["id"]]
    assert [m["name"] for m in team.call("viewer-alpha", "GET", "/monitors").json()["monitors"]] == ["fraud-drift"]


def test_bad_bodies_are_4xx_naming_the_field(team: Team) -> None:
    bad = team.call("contrib-alpha", "POST", "/monitors", json={**BODY, "name": "other", "schedule": "every hour"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "schedule"
    bad = team.call("contrib-alpha", "POST", "/monitors", json={**BODY, "name": "other", "window": "forever"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "window"
    assert team.call("contrib-alpha", "POST", "/monitors", json={**BODY, "unknown": 1}).status_code == 422
    assert team.call("contrib-alpha", "GET", "/monitors/no-such").status_code in (403, 404)
