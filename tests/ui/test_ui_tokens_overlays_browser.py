"""Tokens, the paged audit trail and the monitor's distribution overlays in Debian's chromium
against a live server with authentication on; the attacks (a viewer asking for the
administrator's token, another project's user revoking a token, no CSRF token) are refused,
audited, and change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from ui_lifecycle_world import LC_PASSWORDS, LifecycleSeeded
from ui_world import Console, shot

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def tk_seeded(tmp_path_factory: pytest.TempPathFactory) -> LifecycleSeeded:
    return LifecycleSeeded(tmp_path_factory.mktemp("ui-tokens"), "on")


@pytest.fixture(scope="module")
def tk_server(tk_seeded: LifecycleSeeded) -> Iterator[Any]:  # Any: live_server.LiveServer
    from live_server import LiveServer

    server = LiveServer(tk_seeded.env())
    yield server
    server.stop()


def _login(tab: Any, base: str, user: str) -> None:  # Any: playwright's Page
    tab.context.clear_cookies()
    tab.goto(base + "/login")
    tab.fill("#user", user)
    tab.fill("#password", LC_PASSWORDS[user])
    tab.click("button[type=submit]")
    expect(tab.locator(".who")).to_contain_text(user)


def _root() -> httpx.BasicAuth:
    return httpx.BasicAuth("root", LC_PASSWORDS["root"])


def _tokens(base: str, user: str) -> list[Any]:  # Any: JSON
    resp = httpx.get(f"{base}/api/v1/tokens", params={"user": user}, auth=_root(), timeout=30)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["tokens"])


def _audit(base: str, **params: Any) -> list[Any]:  # Any: JSON
    resp = httpx.get(f"{base}/api/v1/audit", params={"max_results": 10000, **params}, auth=_root(), timeout=30)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["entries"])


def _token(tab: Any) -> str:  # Any: playwright's Page
    return str(tab.locator("form.logout input[name=csrf_token]").get_attribute("value") or "")


def test_a_user_creates_a_token_in_the_browser_and_a_viewer_cannot_take_the_administrators(tk_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = tk_server.url
    _login(tab, base, "vera")
    tab.click("nav >> text=Tokens")
    expect(tab.locator("h1")).to_have_text("API tokens")
    expect(tab.locator("#token-user")).to_have_count(0)  # a viewer creates only their own
    tab.fill("#token-label", "notebook")
    tab.uncheck("input[name=scopes][value=write]")
    tab.fill("#token-days", "7")
    tab.click("#create-token button[type=submit]")
    expect(tab.locator("#new-token")).to_have_count(1)
    secret = str(tab.locator("#new-secret").input_value())
    assert secret and tab.locator("#tokens tbody tr").filter(has_text="notebook").count() == 1
    shot(tab, "tokens-created")
    who = httpx.get(f"{base}/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}, timeout=30).json()
    assert who["name"] == "vera" and who["scopes"] == ["read"]
    # reloading the page never shows the secret again
    tab.goto(base + "/tokens")
    expect(tab.locator("#new-token")).to_have_count(0)
    assert secret not in tab.content()
    assert [e["actor"] for e in _audit(base, action="tokens.create")] == ["vera"]
    # the attack: the form forged to ask for root's token, with a valid CSRF token
    resp = tab.request.post(f"{base}/tokens/create", form={"csrf_token": _token(tab), "user": "root", "label": "x", "scopes": "admin", "expires_in_days": "1"})
    assert resp.status == 403 and "only administrators create tokens for other users" in resp.text()
    # and without a CSRF token
    resp = tab.request.post(f"{base}/tokens/create", form={"label": "x", "scopes": "read"})
    assert resp.status == 403 and "CSRF" in resp.text()
    assert _tokens(base, "root") == [] and len(_tokens(base, "vera")) == 1
    denied = [e for e in _audit(base, action="auth.denied") if e["actor"] == "vera" and e["target"] == "/tokens/create"]
    # the service's refusal with its reason, and the CSRF refusal
    assert len(denied) == 2 and "administrators" in denied[0]["details"]["reason"]
    assert [e for e in console.errors if not re.search(r"status of 40[34]", e)] == []


def test_revoking_is_the_owners_or_the_administrators(tk_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = tk_server.url
    tab.on("dialog", lambda dialog: dialog.accept())
    _login(tab, base, "root")
    tab.goto(base + "/admin")
    tab.click("#create-token-link")
    expect(tab.locator("#token-user")).to_have_count(1)
    tab.fill("#token-user", "dan")
    tab.fill("#token-label", "deploy-bot")
    tab.click("#create-token button[type=submit]")
    expect(tab.locator("#new-token")).to_contain_text("Token created for dan")
    token_id = next(t["token_id"] for t in _tokens(base, "dan") if t["label"] == "deploy-bot")
    # carl (a contributor elsewhere) neither sees nor revokes dan's token
    _login(tab, base, "carl")
    tab.goto(base + "/tokens")
    expect(tab.locator("h1")).to_have_text("API tokens")
    assert token_id not in tab.content()
    resp = tab.request.post(f"{base}/tokens/revoke", form={"csrf_token": _token(tab), "token_id": token_id})
    assert resp.status == 403
    assert not next(t for t in _tokens(base, "dan") if t["token_id"] == token_id)["revoked"]
    assert any(e["actor"] == "carl" for e in _audit(base, action="auth.denied"))
    # the administrator revokes it with the button
    _login(tab, base, "root")
    tab.goto(base + "/tokens")
    tab.click(f"button[aria-label='Revoke token {token_id}']")
    expect(tab.locator("[role=status]")).to_contain_text(f"revoked token {token_id}")
    assert next(t for t in _tokens(base, "dan") if t["token_id"] == token_id)["revoked"]
    assert [e["actor"] for e in _audit(base, action="tokens.revoke")] == ["root"]
    assert [e for e in console.errors if not re.search(r"status of 40[34]", e)] == []


def test_the_audit_trail_pages_and_filters_in_the_browser(tk_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = tk_server.url
    total = len(_audit(base))
    assert total > 60
    _login(tab, base, "root")
    tab.goto(base + "/audit?n=50")
    rows = tab.locator("#audit tbody tr")
    expect(rows).to_have_count(50)
    first_id = int(rows.first.locator("td").first.inner_text())
    tab.click("#audit-older")
    expect(rows.first.locator("td").first).to_have_text(str(first_id - 50))
    expect(rows).to_have_count(min(50, total - 50))
    tab.click("#audit-newer")
    expect(rows.first.locator("td").first).to_have_text(str(first_id))
    tab.fill("#action", "deployments.")
    tab.press("#action", "Enter")
    expect(tab.locator("#audit tbody tr td.mono").first).to_contain_text("deployments.")
    expected = len(_audit(base, action="deployments."))
    expect(rows).to_have_count(expected)
    shot(tab, "audit-paged")
    assert console.errors == []


@pytest.mark.parametrize("page", ["light", "dark"], indirect=True)
def test_the_monitor_page_draws_distribution_overlays(tk_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    suffix = "dark" if tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") else "light"
    base = tk_server.url
    _login(tab, base, "vera")
    tab.goto(base + "/monitors/fraud-drift")
    overlays = tab.locator("#distributions figure.dist")
    expect(overlays).to_have_count(2)
    expect(tab.locator("#distributions .plot.js-plotly-plot")).to_have_count(2)  # plotly.js, served by Steward, drew them
    expect(overlays.first.locator("figcaption")).to_contain_text("amount")
    overlays.first.locator("summary").click()
    expect(overlays.first.locator("tbody tr").first).to_be_visible()
    shot(tab, f"monitor-overlays-{suffix}")
    assert console.errors == []
