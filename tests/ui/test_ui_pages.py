"""The web UI in this process (fast): sessions, CSRF, escaping, and that the API is untouched."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.core import Metric
from steward.settings import Settings
from steward.wiring import Services, build_services

PASSWORD = "a-long-password-1"


@pytest.fixture
def auth_app(tmp_path: Path) -> Iterator[tuple[Any, Services]]:  # Any: FastAPI
    from steward.server import create_app

    settings = Settings(home=tmp_path, auth="on", user="server", capture_git=False)
    services = build_services(settings)
    gov = services.governance("setup")
    gov.create_user("ann", "ann@example.com", password=PASSWORD)
    gov.grant_role("ann", "*", "contributor")
    yield create_app(settings, services), services
    services.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _login(client: httpx.Client, user: str = "ann", password: str = PASSWORD, target: str = "/") -> httpx.Response:
    page = client.get("/login", params={"next": target})
    return client.post("/login", data={"csrf_token": _csrf(page.text), "user": user, "password": password, "next": target})


def test_pages_need_a_session_and_the_session_is_signed(auth_app: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, _services = auth_app
    client = asgi_client(app)
    resp = client.get("/experiments")
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=%2Fexperiments"
    # a forged cookie naming a user is nobody
    client.cookies.set("steward_ui", "eyJ1IjoiYW5uIiwibiI6IngiLCJ0IjoxfQ.forged")
    assert client.get("/experiments").status_code == 303
    client.cookies.clear()
    resp = _login(client, target="/experiments")
    assert resp.status_code == 303 and resp.headers["location"] == "/experiments"
    page = client.get("/experiments")
    assert page.status_code == 200 and "Signed in as <strong>ann</strong>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].count("content-security-policy") == 0
    cookie = page.headers.get("set-cookie", "") or client.cookies.get("steward_ui", "")
    assert cookie


def test_the_session_cookie_does_not_open_the_api(auth_app: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, _services = auth_app
    client = asgi_client(app)
    assert _login(client).status_code == 303
    # the API takes tokens and passwords only: a cookie (sent by any cross-site form) is not one
    resp = client.get("/api/v1/experiments")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHENTICATED"
    assert client.get("/api/v1/nothing-here").status_code == 401
    assert client.delete("/healthz").status_code == 405  # the API's own answers are unchanged


def test_login_refuses_without_csrf_and_never_redirects_off_site(auth_app: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = auth_app
    client = asgi_client(app)
    resp = client.post("/login", data={"user": "ann", "password": PASSWORD})
    assert resp.status_code == 403 and "CSRF" in resp.text
    for evil in ["//evil.example/x", "https://evil.example/", "/\\evil.example"]:
        client.cookies.clear()
        resp = _login(client, target=evil)
        assert resp.status_code == 303 and resp.headers["location"] == "/", evil
    # a wrong password: the page says so, keeps the name, and the refusal is audited
    client.cookies.clear()
    resp = _login(client, password="wrong")
    assert resp.status_code == 401 and "wrong user name or password" in resp.text and 'value="ann"' in resp.text
    assert PASSWORD not in resp.text
    denied = [e for e in services.store.list_audit(limit=1000) if e.action == "auth.denied"]
    assert any(e.actor == "anonymous" for e in denied)


def test_the_csrf_token_changes_at_login_and_a_disabled_user_is_logged_out(
    auth_app: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]
) -> None:
    app, services = auth_app
    client = asgi_client(app)
    before = _csrf(client.get("/login").text)
    assert _login(client).status_code == 303
    after = _csrf(client.get("/").text)
    assert before != after
    services.governance("setup").disable_user("ann")
    assert client.get("/").status_code == 303


def test_values_are_escaped(tmp_path: Path, asgi_client: Callable[[Any], httpx.Client]) -> None:
    from steward.server import create_app

    settings = Settings(home=tmp_path, auth="off", user="me", capture_git=False)
    services = build_services(settings)
    try:
        tracking = services.tracking("me")
        exp = tracking.create_experiment("x")
        run = tracking.create_run(exp.experiment_id, name="<script>alert(1)</script>", params={"p": "<img src=x onerror=alert(1)>"})
        # the run's name also reaches the charts' JSON inside a <script> element
        tracking.log_batch(run.run_id, metrics=[Metric("acc", 1.0, 0, 1)])
        client = asgi_client(create_app(settings, services))
        page = client.get(f"/runs/{run.run_id}").text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "\\u003cscript\\u003ealert(1)" in page  # the charts' JSON, escaped
        table = client.get(f"/experiments/{exp.experiment_id}").text
        assert "<script>alert" not in table
    finally:
        services.close()


def test_audit_and_admin_pages_are_for_administrators(auth_app: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = auth_app
    services.governance("setup").create_user("boss", "boss@example.com", password=PASSWORD, is_admin=True)
    ann = asgi_client(app)
    assert _login(ann).status_code == 303
    home = ann.get("/").text
    assert 'href="/audit"' not in home and 'href="/admin"' not in home
    assert ann.get("/audit").status_code == 403 and ann.get("/admin").status_code == 403
    resp = ann.post("/admin/roles/grant", data={"csrf_token": _csrf(home), "user": "ann", "project": "*", "role": "admin"})
    assert resp.status_code == 403
    assert all(b.role.value != "admin" for b in services.governance("t").list_roles("ann"))

    boss = asgi_client(app)
    assert _login(boss, "boss").status_code == 303
    page = boss.get("/admin")
    assert page.status_code == 200 and 'href="/audit"' in page.text and "ann@example.com" in page.text
    # a bad role: the form says why and keeps what was typed
    resp = boss.post("/admin/roles/grant", data={"csrf_token": _csrf(page.text), "user": "ann", "project": "proj-x", "role": "overlord"})
    assert resp.status_code == 400 and 'id="admin-error"' in resp.text and 'value="proj-x"' in resp.text
    resp = boss.post("/admin/roles/grant", data={"csrf_token": _csrf(page.text), "user": "ann", "project": "proj-x", "role": "viewer"})
    assert resp.status_code == 303
    assert any(b.project == "proj-x" for b in services.governance("t").list_roles("ann"))
    audit = boss.get("/audit", params={"actor": "boss"})
    assert audit.status_code == 200 and "proj-x" in audit.text
    denied = boss.get("/audit", params={"action": "auth.denied"}).text
    assert "ann" in denied
    verified = boss.get("/audit", params={"verify": "1"}).text
    assert "Intact:" in verified
    assert boss.get("/audit", params={"since": "yesterday"}).status_code == 200  # shown inline
    assert "ISO-8601" in boss.get("/audit", params={"since": "yesterday"}).text
