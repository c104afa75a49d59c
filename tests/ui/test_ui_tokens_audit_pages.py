"""The tokens page and the paged audit page in this process, authentication on: a token is
created through the governance service (the secret shown once, the creation audited), and
the attacks on it are refused, audited and change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.adapters.sql._audit import SqlAuditStore
from steward.settings import Settings
from steward.tracking import AuditEvent
from steward.wiring import Services, build_services

PASSWORD = "a-long-password-1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Any, Services]]:  # Any: FastAPI
    from steward.server import create_app

    settings = Settings(home=tmp_path, auth="on", user="server", capture_git=False)
    services = build_services(settings)
    gov = services.governance("setup")
    gov.create_user("boss", "boss@example.com", password=PASSWORD, is_admin=True)
    gov.create_user("vera", "vera@example.com", password=PASSWORD)
    gov.grant_role("vera", "proj-a", "viewer")
    gov.create_user("carl", "carl@example.com", password=PASSWORD)
    gov.grant_role("carl", "proj-b", "contributor")
    yield create_app(settings, services), services
    services.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _signed_in(make: Callable[[Any], httpx.Client], app: Any, user: str) -> tuple[httpx.Client, str]:
    client = make(app)
    page = client.get("/login")
    resp = client.post("/login", data={"csrf_token": _csrf(page.text), "user": user, "password": PASSWORD, "next": "/tokens"})
    assert resp.status_code == 303
    tokens = client.get("/tokens")
    assert tokens.status_code == 200
    return client, _csrf(tokens.text)


def _secret(html: str) -> str:
    found = re.search(r'id="new-secret"[^>]*value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _actions(services: Services, action: str) -> list[AuditEvent | Any]:  # Any: AuditEntry
    return services.audit().list_entries(action=action, max_results=1000).entries


def test_a_user_creates_their_own_token_and_sees_the_secret_once(world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = world
    vera, csrf = _signed_in(asgi_client, app, "vera")
    resp = vera.post("/tokens/create", data={"csrf_token": csrf, "label": "laptop", "scopes": ["read"], "expires_in_days": "30"})
    assert resp.status_code == 201 and "shown only this once" in resp.text
    secret = _secret(resp.text)
    assert resp.headers["cache-control"] == "no-store"
    # the token is vera's and works on the API, read-only
    who = vera.get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}).json()
    assert who["name"] == "vera" and who["scopes"] == ["read"]
    again = vera.get("/tokens").text
    assert secret not in again and "laptop" in again
    created = _actions(services, "tokens.create")
    assert [(e.actor, e.target.startswith("tokens:/")) for e in created] == [("vera", True)]
    # a bad expiry keeps what was typed
    bad = vera.post("/tokens/create", data={"csrf_token": csrf, "label": "keep-me", "scopes": ["read"], "expires_in_days": "soon"})
    assert bad.status_code == 422 and 'value="keep-me"' in bad.text and 'aria-invalid="true"' in bad.text


def test_a_viewer_cannot_get_a_token_for_an_administrator(world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = world
    vera, csrf = _signed_in(asgi_client, app, "vera")
    # the form offers no user field to a non-administrator; a forged one is refused by the service
    assert 'id="token-user"' not in vera.get("/tokens").text
    resp = vera.post("/tokens/create", data={"csrf_token": csrf, "user": "boss", "label": "mine now", "scopes": ["read", "write", "admin"], "expires_in_days": "1"})
    assert resp.status_code == 403 and "only administrators create tokens for other users" in resp.text
    assert services.governance("t").list_tokens("boss") == []
    denied = [e for e in _actions(services, "auth.denied") if e.actor == "vera"]
    assert denied and denied[-1].target == "/tokens/create" and "administrators" in str(denied[-1].details["reason"])
    # without the CSRF token, or with another session's, nothing is issued either
    assert vera.post("/tokens/create", data={"label": "x", "scopes": ["read"]}).status_code == 403
    _carl, carl_csrf = _signed_in(asgi_client, app, "carl")
    assert vera.post("/tokens/create", data={"csrf_token": carl_csrf, "label": "x", "scopes": ["read"]}).status_code == 403
    assert services.governance("t").list_tokens("vera") == [] and _actions(services, "tokens.create") == []
    # a never-expiring token is for administrators only: refused, audited
    never = vera.post("/tokens/create", data={"csrf_token": csrf, "label": "forever", "scopes": ["read"], "expires_in_days": ""})
    assert never.status_code == 403 and 'value="forever"' in never.text
    assert services.governance("t").list_tokens("vera") == []


def test_another_projects_user_cannot_revoke_or_see_someone_elses_token(world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = world
    boss, boss_csrf = _signed_in(asgi_client, app, "boss")
    assert 'id="token-user"' in boss.get("/tokens").text
    resp = boss.post("/tokens/create", data={"csrf_token": boss_csrf, "user": "vera", "label": "ci", "scopes": ["read", "write"], "expires_in_days": "90"})
    assert resp.status_code == 201
    (token,) = services.governance("t").list_tokens("vera")
    carl, carl_csrf = _signed_in(asgi_client, app, "carl")
    assert token.token_id not in carl.get("/tokens").text
    refused = carl.post("/tokens/revoke", data={"csrf_token": carl_csrf, "token_id": token.token_id})
    assert refused.status_code == 403
    assert not services.governance("t").list_tokens("vera")[0].revoked
    assert any(e.actor == "carl" and e.target == "/tokens/revoke" for e in _actions(services, "auth.denied"))
    # the administrator revokes it: the service's own audit row
    done = boss.post("/tokens/revoke", data={"csrf_token": boss_csrf, "token_id": token.token_id})
    assert done.status_code == 303 and done.headers["location"].startswith("/tokens?done=")
    assert services.governance("t").list_tokens("vera")[0].revoked
    assert [e.actor for e in _actions(services, "tokens.revoke")] == ["boss"]


def test_the_audit_page_pages_through_the_whole_trail_both_ways(world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = world
    store = SqlAuditStore(services.store)
    for i in range(1_150):
        store.record(AuditEvent("bot" if i % 2 else "cron", "jobs.run", f"jobs:/{i}", 1_000_000 + i, {"i": i}))
    boss, _ = _signed_in(asgi_client, app, "boss")
    head = services.audit().head()
    assert head is not None
    first = boss.get("/audit", params={"n": "50"}).text
    ids = [int(x) for x in re.findall(r"<tr><td>(\d+)</td>", first)]
    assert ids == list(range(head[0], head[0] - 50, -1)) and f"Head: entry #{head[0]}" in first
    older = re.search(r'href="([^"]+)" id="audit-older"', first)
    assert older and 'id="audit-newer"' not in first
    second = boss.get(older.group(1).replace("&amp;", "&")).text
    assert [int(x) for x in re.findall(r"<tr><td>(\d+)</td>", second)] == list(range(head[0] - 50, head[0] - 100, -1))
    newer = re.search(r'href="([^"]+)" id="audit-newer"', second)
    assert newer
    back = boss.get(newer.group(1).replace("&amp;", "&")).text
    assert [int(x) for x in re.findall(r"<tr><td>(\d+)</td>", back)] == ids
    # filters reach entries far behind the first thousand, and keep what was typed
    late = boss.get("/audit", params={"actor": "cron", "target": "jobs:/1148"}).text
    assert [int(x) for x in re.findall(r'<td class="mono">jobs:/(\d+)</td>', late)] == [1148]
    early = boss.get("/audit", params={"actor": "cron", "target": "jobs:/", "until": "1970-01-01T00:16:40.005"}).text
    assert [int(x) for x in re.findall(r'<td class="mono">jobs:/(\d+)</td>', early)] == [4, 2, 0]
    bad = boss.get("/audit", params={"until": "tomorrow", "actor": "cron"})
    assert bad.status_code == 200 and "until must be an ISO-8601" in bad.text and 'value="cron"' in bad.text
    assert re.search(r'id="until"[^>]*aria-invalid="true"', bad.text)
    # the audit page stays the reviewers' and administrators': a viewer is refused
    vera, _ = _signed_in(asgi_client, app, "vera")
    assert vera.get("/audit").status_code == 403
