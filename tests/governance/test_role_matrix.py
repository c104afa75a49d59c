"""Every route x every role, decided by the one permission table, against the real app.

Requests need not succeed functionally (most carry placeholder ids); what is checked is
that the auth layer answers 401/403 exactly when the table says so. A route added to the
app without a table entry fails ``test_every_route_of_the_app_is_in_the_permission_table``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import routing

from steward.core.permissions import OPERATIONS, Permission, Role, is_allowed
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import build_services

ALL_SCOPES = ("read", "write", "admin")
PLACEHOLDERS = {
    "run_id": "0" * 32,
    "experiment_id": "1",
    "name": "m",
    "version": "1",
    "path": "a.txt",
    "key": "k",
    "alias": "champion",
    "service": "unknown/endpoint",
    "token_id": "nosuchtoken",
    "model_id": "m-" + "0" * 32,
    "tag_key": "k",
    "upload_id": "0" * 32,
    "delivery_id": "0" * 32,
}
# None: a user with no role binding at all; "global-admin": users.is_admin
SUBJECTS: list[Role | str | None] = [*Role, None, "global-admin"]


def app_operations(app: Any) -> list[tuple[str, str]]:  # Any: FastAPI
    """(method, path template) of every route the app serves."""
    found: set[tuple[str, str]] = set()
    for route in routing.iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":  # served by the GET route
                found.add((method, str(route.path_format)))
    return sorted(found, key=lambda k: (k[1], k[0]))


def concrete(path: str) -> str:
    return path.format(**PLACEHOLDERS)


async def _send_all(app: Any, ops: list[tuple[str, str]], headers: dict[str, str]) -> dict[tuple[str, str], httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    out: dict[tuple[str, str], httpx.Response] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
        for method, path in ops:
            kwargs: dict[str, Any] = {}  # Any: httpx request options
            if method in ("POST", "PUT", "PATCH"):
                kwargs = {"content": b"x"} if "{path}" in path else {"json": {}}
            out[(method, path)] = await client.request(method, concrete(path), headers=headers, **kwargs)
    return out


class World:
    def __init__(self, root: Path) -> None:
        # this test sends hundreds of bad credentials from one address on purpose: lift the
        # failed-login rate limit (tested on its own) so every answer is the auth layer's 401
        unlimited = {"auth_max_failures": 1_000_000} if "auth_max_failures" in Settings.model_fields else {}
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, **unlimited)  # type: ignore[arg-type]
        self.services = build_services(self.settings)
        self.app = create_app(self.settings, self.services)
        gov = self.services.governance("setup")
        self.tokens: dict[str, str] = {"global-admin": gov.bootstrap_admin("root", "root@example.com").secret}
        for subject in SUBJECTS:
            if subject == "global-admin":
                continue
            name = "nobody" if subject is None else f"user-{subject.value}"  # type: ignore[union-attr]
            gov.create_user(name, f"{name}@example.com")
            if isinstance(subject, Role):
                gov.grant_role(name, "*", subject)
            self.tokens[name] = gov.create_token(name, scopes=ALL_SCOPES).secret

    def token_of(self, subject: Role | str | None) -> str:
        if subject == "global-admin":
            return self.tokens["global-admin"]
        return self.tokens["nobody" if subject is None else f"user-{subject.value}"]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("matrix"))
    yield w
    w.services.close()


def test_every_route_of_the_app_is_in_the_permission_table(world: World) -> None:
    missing = [op for op in app_operations(world.app) if op not in OPERATIONS]
    assert missing == [], f"routes without an entry in steward.core.permissions.OPERATIONS: {missing}"
    stale = sorted(set(OPERATIONS) - set(app_operations(world.app)))
    assert stale == [], f"permission entries for routes the app does not serve: {stale}"


def _expected(subject: Role | str | None, method: str, path: str) -> bool:
    op = OPERATIONS[(method, path)]
    bindings = [("*", subject)] if isinstance(subject, Role) else []
    return is_allowed(
        is_admin=subject == "global-admin",
        scopes=ALL_SCOPES,
        bindings=bindings,
        permission=op.permission,
        project=None,
    )


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: "no-role" if s is None else str(getattr(s, "value", s)))
def test_each_role_is_allowed_and_denied_exactly_as_the_table_says(world: World, subject: Role | str | None) -> None:
    ops = app_operations(world.app)
    responses = asyncio.run(_send_all(world.app, ops, {"Authorization": f"Bearer {world.token_of(subject)}"}))
    wrong = []
    for (method, path), resp in responses.items():
        denied = resp.status_code in (401, 403)
        if denied == _expected(subject, method, path) or resp.status_code >= 500:
            wrong.append((method, path, resp.status_code, resp.text[:120]))
    assert wrong == []


def test_the_matrix_covers_both_outcomes_for_every_non_public_permission(world: World) -> None:
    for permission in {op.permission for op in OPERATIONS.values()} - {Permission.PUBLIC}:
        (method, path) = next(k for k, op in OPERATIONS.items() if op.permission is permission)
        outcomes = {_expected(s, method, path) for s in SUBJECTS}
        if permission in (Permission.ACCOUNT_READ, Permission.ACCOUNT_WRITE):
            assert outcomes == {True}
        else:
            assert outcomes == {True, False}, permission


def test_every_non_public_route_answers_401_without_credentials_and_never_data(world: World) -> None:
    ops = [op for op in app_operations(world.app) if OPERATIONS[op].permission is not Permission.PUBLIC]
    wrong_password = {"Authorization": "Basic cm9vdDp3cm9uZw=="}  # root:wrong
    for headers in ({}, {"Authorization": "Bearer stw_wrong"}, {"X-Steward-User": "root"}, wrong_password):
        # argon2 makes every password check slow on purpose: a sample of routes suffices
        sample = ops[::25] if headers is wrong_password else ops
        responses = asyncio.run(_send_all(world.app, sample, headers))
        for (method, path), resp in responses.items():
            assert resp.status_code == 401, (method, path, headers, resp.status_code)
            assert resp.json() == {"error": {"code": "UNAUTHENTICATED", "message": resp.json()["error"]["message"]}}
            assert "www-authenticate" in resp.headers


def test_public_routes_answer_without_credentials(world: World) -> None:
    public = [op for op in app_operations(world.app) if OPERATIONS[op].permission is Permission.PUBLIC]
    responses = asyncio.run(_send_all(world.app, public, {}))
    # "/" is the web UI: without a session it sends the browser to its login page
    assert {op: r.status_code for op, r in responses.items()} == {op: 303 if op == ("GET", "/") else 200 for op in public}
    assert responses[("GET", "/")].headers["location"].startswith("/login")


def test_an_unknown_path_is_401_not_a_404_that_maps_the_api(world: World) -> None:
    responses = asyncio.run(_send_all(world.app, [("GET", "/api/v1/nothing-here")], {}))
    assert responses[("GET", "/api/v1/nothing-here")].status_code == 401
