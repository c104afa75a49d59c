"""The models, deployments, monitors and datasets pages in Debian's chromium against a live
server with authentication on: every page loads without console errors, actions work for
the roles allowed and are refused (403, nothing changed) for the others, with audit rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ui_lifecycle_world import LC_PASSWORDS, LifecycleSeeded
from ui_world import Console, shot

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def lc_seeded(tmp_path_factory: pytest.TempPathFactory) -> LifecycleSeeded:
    return LifecycleSeeded(tmp_path_factory.mktemp("ui-lifecycle"), "on")


@pytest.fixture(scope="module")
def lc_server(lc_seeded: LifecycleSeeded) -> Iterator[Any]:  # Any: live_server.LiveServer
    from live_server import LiveServer

    server = LiveServer(lc_seeded.env())
    yield server
    server.stop()


def _login(tab: Any, base: str, user: str) -> None:  # Any: playwright's Page
    tab.context.clear_cookies()
    tab.goto(base + "/login")
    tab.fill("#user", user)
    tab.fill("#password", LC_PASSWORDS[user])
    tab.click("button[type=submit]")
    tab.wait_for_selector(".who")


def _api(base: str, path: str, **params: Any) -> Any:  # Any: JSON
    resp = httpx.get(base + path, auth=httpx.BasicAuth("root", LC_PASSWORDS["root"]), params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _audit(base: str) -> str:
    return str(_api(base, "/api/v1/audit", max_results=10000))


def _token(tab: Any) -> str:  # Any: playwright's Page
    return str(tab.locator("form.logout input[name=csrf_token]").get_attribute("value") or "")


@pytest.mark.parametrize("page", ["light", "dark"], indirect=True)
def test_lifecycle_pages_load_without_console_errors(lc_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    suffix = "dark" if tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") else "light"
    base = lc_server.url
    _login(tab, base, "root")
    console.errors.clear()
    visits = [
        ("models", "/models", False), ("model", "/models/fraud?version=1", True), ("deployments", "/deployments", False),
        ("deployment", "/deployments/fraud-api", True), ("monitors", "/monitors", False), ("monitor", "/monitors/fraud-drift", True),
        ("datasets", "/datasets", False), ("dataset", "/datasets/transactions?version=2", True),
        ("dataset-diff", "/datasets/transactions/diff?a=1&b=2", True),
    ]
    for name, path, charts in visits:
        response = tab.goto(base + path)
        assert response is not None and response.status == 200, path
        tab.wait_for_load_state("networkidle")
        if charts:
            tab.wait_for_selector(".plot .main-svg")  # plotly.js, served by Steward, drew the charts
        shot(tab, f"lc-{name}-{suffix}")
        assert console.errors == [], path
    # what the pages say
    tab.goto(base + "/models/fraud?version=1")
    assert "Gate 1: passed" in tab.locator("#gates-h + h3").inner_text()
    assert tab.locator("#slices tbody tr").count() == 3  # fr, de, es
    assert "fraud-training" in tab.locator("#card").inner_text()  # the experiment's name, not its id
    assert "approved" in tab.locator("#timeline").inner_text()
    tab.goto(base + "/deployments/fraud-api")
    assert "requests in 6 windows" in tab.locator("#live-totals").inner_text()
    assert "20%" in tab.locator("#variants").inner_text()
    tab.goto(base + "/monitors/fraud-drift")
    assert tab.locator("#features tbody tr").first.inner_text().startswith("amount")
    tab.goto(base + "/datasets/transactions?version=2")
    assert "Failed" in tab.locator("details.validation summary").first.inner_text()
    # unknown ids: the 404 page
    console.errors.clear()
    for path in ["/models/nope", "/models/fraud?version=99", "/deployments/nope", "/monitors/nope", "/datasets/nope", "/datasets/transactions?version=9"]:
        response = tab.goto(base + path)
        assert response is not None and response.status == 404, path
        assert tab.locator("h1").inner_text() == "Not found"
    assert [e for e in console.errors if "404" not in e] == []


def test_approval_needs_the_reviewer_role(lc_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = lc_server.url
    # a viewer sees no action and a forged post (valid CSRF token) is refused and audited
    _login(tab, base, "vera")
    tab.goto(base + "/models/fraud?version=3")
    assert tab.locator("#approve-form").count() == 0 and tab.locator("#transition-form").count() == 0
    assert tab.locator("#alias-form").count() == 0
    resp = tab.request.post(f"{base}/models/fraud/versions/3/approve", form={"csrf_token": _token(tab), "comment": "sneaky"})
    assert resp.status == 403 and "Permission denied" in resp.text()
    # a deployer may transition but not approve
    _login(tab, base, "dan")
    tab.goto(base + "/models/fraud?version=3")
    assert tab.locator("#approve-form").count() == 0 and tab.locator("#transition-form").count() == 1
    resp = tab.request.post(f"{base}/models/fraud/versions/3/approve", form={"csrf_token": _token(tab), "comment": "sneaky"})
    assert resp.status == 403
    assert _api(base, "/api/v1/models/fraud/versions/3")["approvals"] == []  # nothing changed
    # the reviewer: an empty comment is refused inline, then the approval is recorded
    _login(tab, base, "rita")
    tab.goto(base + "/models/fraud?version=3")
    tab.fill("#approve-comment", "   ")
    tab.click("#approve-form button")
    assert "needs a comment" in tab.locator("#action-error").inner_text()
    assert tab.get_attribute("#approve-comment", "aria-invalid") == "true"
    tab.fill("#approve-comment", "checked the holdout")
    tab.click("#approve-form button")
    assert "approved version 3" in tab.locator("[role=status]").inner_text()
    shot(tab, "lc-model-approved")
    version = _api(base, "/api/v1/models/fraud/versions/3")
    assert version["state"] == "approved" and version["approvals"][0]["approver"] == "rita"
    audit = _audit(base)
    assert "models.approve" in audit and "'rita'" in audit and "auth.denied" in audit and "'vera'" in audit
    assert [e for e in console.errors if not re.search(r"status of 4(00|03|09|22)", e)] == []


def test_transition_and_alias_need_the_deployer_role(lc_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = lc_server.url
    _login(tab, base, "carl")  # a contributor
    tab.goto(base + "/models/fraud?version=4")
    assert tab.locator("#transition-form").count() == 0
    resp = tab.request.post(f"{base}/models/fraud/versions/4/transition", form={"csrf_token": _token(tab), "state": "retired"})
    assert resp.status == 403
    assert _api(base, "/api/v1/models/fraud/versions/4")["state"] == "candidate"
    _login(tab, base, "dan")
    tab.goto(base + "/models/fraud?version=4")
    # no state chosen: refused inline, the typed comment kept
    tab.fill("#transition-comment", "superseded by version 3")
    tab.click("#transition-form button")
    assert "choose the state" in tab.locator("#action-error").inner_text()
    assert tab.input_value("#transition-comment") == "superseded by version 3"
    tab.select_option("#transition-state", "retired")
    tab.click("#transition-form button")
    assert "moved to retired" in tab.locator("[role=status]").inner_text()
    assert _api(base, "/api/v1/models/fraud/versions/4")["state"] == "retired"
    # an alias: a bad version number keeps what was typed; then it moves
    tab.goto(base + "/models/fraud?version=2")
    tab.fill("#alias-name", "challenger")
    tab.fill("#alias-version", "two")
    tab.click("#alias-form button")
    assert "version number" in tab.locator("#action-error").inner_text()
    assert tab.input_value("#alias-name") == "challenger" and tab.input_value("#alias-version") == "two"
    tab.fill("#alias-version", "2")
    tab.click("#alias-form button")
    assert "challenger now points at version 2" in tab.locator("[role=status]").inner_text()
    assert _api(base, "/api/v1/models/fraud")["aliases"]["challenger"] == 2
    audit = _audit(base)
    assert "models.transition" in audit and "models.set_alias" in audit and "'dan'" in audit
    assert [e for e in console.errors if not re.search(r"status of 4(00|03|09|22)", e)] == []


def test_rollback_needs_the_deployer_role_and_csrf(lc_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = lc_server.url
    before = _api(base, "/api/v1/deployments/fraud-api")
    _login(tab, base, "carl")
    tab.goto(base + "/deployments/fraud-api")
    assert tab.locator("#rollback-form").count() == 0 and tab.locator("#promote-form").count() == 0
    resp = tab.request.post(f"{base}/deployments/fraud-api/rollback", form={"csrf_token": _token(tab), "reason": "x"})
    assert resp.status == 403
    _login(tab, base, "dan")
    # without the CSRF token: refused, nothing changed
    resp = tab.request.post(f"{base}/deployments/fraud-api/rollback", form={"reason": "no token"})
    assert resp.status == 403 and "CSRF" in resp.text()
    assert _api(base, "/api/v1/deployments/fraud-api")["revision"] == before["revision"]
    tab.goto(base + "/deployments/fraud-api")
    assert tab.locator("#promote-form").count() == 1
    tab.fill("#rollback-reason", "candidate latency")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.click("#rollback-form button")
    assert "rolled back" in tab.locator("[role=status]").inner_text()
    shot(tab, "lc-deployment-rolled-back")
    after = _api(base, "/api/v1/deployments/fraud-api")
    assert after["revision"] == before["revision"] + 1
    assert [v["name"] for v in after["variants"] if not v["shadow"]] == ["primary"]
    audit = _audit(base)
    assert "deployments.rollback" in audit and "candidate latency" in audit
    assert [e for e in console.errors if not re.search(r"status of 4(00|03|09|22)", e)] == []


def test_the_diff_form_keeps_what_was_typed(lc_server: Any, page: tuple[Any, Console]) -> None:
    tab, _console = page
    base = lc_server.url
    _login(tab, base, "vera")
    tab.goto(base + "/datasets/transactions")
    tab.click("#diff-form button")
    assert "datasets:/transactions/1" in tab.locator("#diff-summary").inner_text()
    tab.fill("#diff-a", "one")
    tab.click("#diff-form button")
    assert "a must be a version number" in tab.locator("#diff-error").inner_text()
    assert tab.input_value("#diff-a") == "one" and tab.get_attribute("#diff-a", "aria-invalid") == "true"
