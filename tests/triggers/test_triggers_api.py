"""The triggers API with authentication on: a trigger is its project's; a viewer lists and reads
but cannot create, fire or delete; another project's contributor can neither see, fire nor
create one there, nor point one of its own at the other project's data; bad bodies are 4xx
naming the field."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from triggers_testing import frame, pipeline_file

from steward.core.permissions import Role
from steward.settings import Settings
from steward.wiring import Services, build_services

USERS = {"viewer-alpha": (Role.VIEWER, "alpha"), "contrib-alpha": (Role.CONTRIBUTOR, "alpha"), "contrib-beta": (Role.CONTRIBUTOR, "beta")}


class Team:
    def __init__(self, root: Path) -> None:
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, capture_packages=False, auth_max_failures=1_000_000)
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {"root": gov.create_token("root", scopes=("read", "write", "admin")).secret}
        for name, (role, project) in USERS.items():
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name, scopes=("read", "write")).secret
        self.services.data("setup").register("alpha-data", frame(seed=1), project="alpha")
        self.pipeline = str(pipeline_file(root))
        from steward.server import create_app

        self.app = create_app(self.settings, self.services)

    def body(self, **extra: object) -> dict[str, object]:
        return {"name": "alpha-retrain", "kind": "dataset", "dataset": "alpha-data", "pipeline": self.pipeline, "project": "alpha", **extra}

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
            async with httpx.AsyncClient(transport=transport, base_url="http://steward.test", headers=headers) as c:
                return await c.request(method, f"/api/v1{path}", **kwargs)

        return asyncio.run(go())

    def ensure(self) -> None:
        if self.call("contrib-alpha", "GET", "/triggers/alpha-retrain").status_code == 404:
            created = self.call("contrib-alpha", "POST", "/triggers", json=self.body())
            assert created.status_code == 201, created.text


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    t = Team(tmp_path_factory.mktemp("team"))
    yield t
    t.services.close()


def test_a_viewer_lists_and_reads_but_cannot_create_fire_or_delete(team: Team) -> None:
    refused = team.call("viewer-alpha", "POST", "/triggers", json=team.body(name="viewer-made"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PERMISSION_DENIED"
    team.ensure()
    assert [t["name"] for t in team.call("viewer-alpha", "GET", "/triggers").json()["triggers"]] == ["alpha-retrain"]
    shown = team.call("viewer-alpha", "GET", "/triggers/alpha-retrain")
    assert shown.status_code == 200 and shown.json()["project"] == "alpha" and shown.json()["created_by"] == "contrib-alpha"
    assert team.call("viewer-alpha", "GET", "/triggers/alpha-retrain/history").status_code == 200
    assert team.call("viewer-alpha", "POST", "/triggers/alpha-retrain/fire", json={}).status_code == 403
    assert team.call("viewer-alpha", "DELETE", "/triggers/alpha-retrain").status_code == 403


def test_another_projects_contributor_can_neither_see_fire_nor_create_there(team: Team) -> None:
    team.ensure()
    for method, path in (
        ("GET", "/triggers/alpha-retrain"), ("GET", "/triggers/alpha-retrain/history"),
        ("POST", "/triggers/alpha-retrain/fire"), ("DELETE", "/triggers/alpha-retrain"),
    ):
        answer = team.call("contrib-beta", method, path, **({"json": {}} if method == "POST" else {}))
        assert answer.status_code == 403, (method, path, answer.text)
    listing = team.call("contrib-beta", "GET", "/triggers")
    assert listing.status_code == 200 and listing.json() == {"triggers": []}
    # nor create one in alpha, nor one of beta's own watching alpha's dataset
    assert team.call("contrib-beta", "POST", "/triggers", json=team.body(name="spy")).status_code == 403
    assert team.call("contrib-beta", "POST", "/triggers", json=team.body(name="spy", project="beta")).status_code == 403
    # nor look at every project's triggers at once
    assert team.call("contrib-beta", "POST", "/triggers/tick").status_code == 403
    assert team.call("", "GET", "/triggers").status_code == 401
    forged = team.call("", "GET", "/triggers", headers={"Authorization": "Bearer st_forged", "X-Steward-User": "contrib-alpha"})
    assert forged.status_code == 401
    assert team.call("contrib-alpha", "GET", "/triggers/alpha-retrain").status_code == 200  # still there


def test_the_contributor_fires_it_and_every_start_is_audited(team: Team) -> None:
    team.ensure()
    fired = team.call("contrib-alpha", "POST", "/triggers/alpha-retrain/fire", json={"params": {"c": 3}})
    assert fired.status_code == 200, fired.text
    start = fired.json()
    assert start["status"] == "finished" and start["params"] == {"data": "alpha-data:1", "c": 3} and start["run_id"]
    history = team.call("viewer-alpha", "GET", "/triggers/alpha-retrain/history").json()["starts"]
    assert history[0]["id"] == start["id"]
    audited = [a for a in team.services.store.list_audit(target="triggers:/alpha-retrain") if a.action == "triggers.start"]
    assert audited and audited[-1].actor == "contrib-alpha" and audited[-1].details["start_id"] == start["id"]
    assert team.call("root", "POST", "/triggers/tick").json() == {"starts": []}  # no new version since


def test_bad_bodies_are_4xx_naming_the_field(team: Team) -> None:
    cases: list[tuple[dict[str, object], int, str]] = [
        ({"kind": "cron", "dataset": None, "schedule": "every hour"}, 422, "schedule"),
        ({"dataset": "no-such-data"}, 404, "dataset"),
        ({"kind": "registry", "dataset": None, "model": "no-such-model"}, 404, "model"),
        ({"pipeline": "/no/such/file.py"}, 404, "pipeline"),
        ({"pipeline": "/tmp/" + "a" * 900 + ".py"}, 404, "pipeline"),  # longer than a file name may be
        ({"pipeline": "/tmp/nul\u0000.py"}, 422, "pipeline"),
        ({"kind": "cron", "dataset": None, "schedule": "0 3 * * *", "timezone": "CET"}, 422, "timezone"),
    ]
    for extra, status, field in cases:
        body = {k: v for k, v in team.body(name="bad", **extra).items() if v is not None}
        answer = team.call("contrib-alpha", "POST", "/triggers", json=body)
        assert answer.status_code == status and answer.json()["error"]["field"] == field, (extra, answer.text)
    assert team.call("contrib-alpha", "POST", "/triggers", json=team.body(name="bad", unknown=1)).status_code == 422
    assert team.call("contrib-alpha", "POST", "/triggers", json=team.body(name="bad", kind="weekly")).status_code == 422
    assert team.call("contrib-alpha", "GET", "/triggers/no-such").status_code in (403, 404)
