"""The web UI in a real browser (Debian's chromium, headless) against live servers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from ui_world import PASSWORDS, RUNS, Console, Seeded, shot

pytestmark = pytest.mark.timeout(180)


def _rows(page: Any) -> Any:  # Any: playwright's Page and Locator
    return page.locator("#runs tbody tr td a[href^='/runs/']")


@pytest.mark.parametrize("page", ["light", "dark"], indirect=True)
def test_every_page_loads_without_console_errors(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    scheme = tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    suffix = "dark" if scheme else "light"
    base = open_server.url
    run_id = seeded_open.run_ids[5]
    visits = [
        ("experiments", "/"),
        ("runs", f"/experiments/{seeded_open.experiment_id}"),
        ("run", f"/runs/{run_id}"),
        ("compare", f"/compare?run={seeded_open.run_ids[1]}&run={seeded_open.run_ids[2]}&run={run_id}"),
        ("not-found", "/runs/0123456789abcdef0123456789abcdef"),
    ]
    for name, path in visits:
        response = tab.goto(base + path)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), path
        tab.wait_for_load_state("networkidle")
        if name in ("run", "compare"):
            tab.wait_for_selector(".plot .main-svg")  # plotly.js, served by Steward, drew the charts
        shot(tab, f"{name}-{suffix}")
        if name == "not-found":  # chromium reports the 404 of the document itself, nothing else
            assert [e for e in console.errors if "404" not in e] == []
        else:
            assert console.errors == [], path
        console.errors.clear()


def test_filtering_sorting_and_paging(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    tab.goto(f"{open_server.url}/experiments/{seeded_open.experiment_id}")
    # expect(...) retries until the page that a click or a key press navigated to has loaded
    expect(_rows(tab)).to_have_count(50)
    assert tab.locator(".pager").inner_text().count("Page 1") == 1
    tab.click("a[rel=next]")
    expect(tab.locator(".pager")).to_contain_text("Page 2")
    expect(_rows(tab)).to_have_count(50)
    tab.click("a[rel=next]")
    expect(tab.locator(".pager")).to_contain_text("Page 3")
    expect(_rows(tab)).to_have_count(RUNS - 100)
    expect(tab.locator("a[rel=next]")).to_have_count(0)
    tab.click("a[rel=prev]")
    expect(tab.locator(".pager")).to_contain_text("Page 2")
    tab.click("a[rel=prev]")
    expect(tab.locator(".pager")).to_contain_text("Page 1")
    expect(tab.locator("a[rel=prev]")).to_have_count(0)
    # the newest run first by default
    assert tab.locator("#runs tbody tr").first.inner_text().startswith(f"run-{RUNS - 1:03d}") or "run-119" in tab.locator("#runs tbody tr").first.inner_text()
    # filter with the SDK's language, with the keyboard
    tab.fill("#filter", "metrics.acc >= 0.5 and params.model = 'gbm'")
    tab.press("#filter", "Enter")
    expect(_rows(tab)).to_have_count(30)
    # sort by a metric column: descending (best first) then ascending
    tab.click("#runs thead a:has-text('acc')")
    expect(tab.locator("#runs tbody tr").first).to_contain_text("run-118")
    tab.click("#runs thead a:has-text('acc')")
    expect(tab.locator("#runs tbody tr").first).to_contain_text("run-060")
    # the filter and the order survive paging links
    assert "filter=" in (tab.locator("#runs thead a:has-text('acc')").get_attribute("href") or "")
    shot(tab, "runs-filtered")
    assert console.errors == []


def test_the_column_chooser_shows_chosen_columns(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    tab.goto(f"{open_server.url}/experiments/{seeded_open.experiment_id}")
    headers = tab.locator("#runs thead th").all_inner_texts()
    assert any("lr" in h for h in headers)
    tab.click(".chooser summary")
    tab.uncheck(".chooser input[name=cols][value='params.lr']")
    tab.click(".chooser button[type=submit]")
    expect(tab).to_have_url(re.compile(r"cols="))  # the reloaded page, read only once it has its table
    expect(tab.locator("#runs thead th", has_text="acc")).not_to_have_count(0)
    expect(tab.locator("#runs thead th", has_text="lr")).to_have_count(0)
    headers = tab.locator("#runs thead th").all_inner_texts()
    assert not any(h.startswith("lr") for h in headers) and any(h.startswith("acc") for h in headers)
    assert console.errors == []


def test_an_invalid_filter_shows_its_error_inline_with_the_position(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    tab.goto(f"{open_server.url}/experiments/{seeded_open.experiment_id}")
    tab.fill("#filter", "metrics.acc >> 1")
    tab.press("#filter", "Enter")
    alert = tab.locator("#filter-error")
    assert alert.is_visible()
    text = alert.inner_text()
    assert "position 13" in text and "^" in text, text
    # what was typed is kept, and the field is marked invalid
    assert tab.input_value("#filter") == "metrics.acc >> 1"
    assert tab.get_attribute("#filter", "aria-invalid") == "true"
    shot(tab, "runs-invalid-filter")
    assert console.errors == []


def test_unknown_ids_give_a_404_page(open_server: Any, page: tuple[Any, Console]) -> None:
    tab, _console = page
    for path in ["/experiments/999999", "/runs/nope", "/runs/nope/more/path", "/experiments/1/nothing"]:
        response = tab.goto(open_server.url + path)
        assert response is not None and response.status == 404, path
        assert tab.locator("h1").inner_text() == "Not found"


def test_mlflow_links_open_the_run(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, _console = page
    run_id = seeded_open.run_ids[3]
    tab.goto(f"{open_server.url}/#/experiments/{seeded_open.experiment_id}/runs/{run_id}")
    tab.wait_for_url(re.compile(f"/runs/{run_id}$"))
    assert tab.locator("h1").inner_text() == "run-003"


def test_compare_selected_runs_from_the_table(open_server: Any, seeded_open: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    tab.goto(f"{open_server.url}/experiments/{seeded_open.experiment_id}")
    boxes = tab.locator("input[name=run]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    tab.click("text=Compare selected")
    tab.wait_for_url(re.compile("/compare"))
    assert tab.locator("h1").inner_text() == "Compare 2 runs"
    assert tab.locator("tr.differs").count() >= 1  # seed differs
    tab.wait_for_selector(".plot .main-svg")
    assert console.errors == []


def test_csrf_is_refused_without_the_token(open_server: Any, seeded_open: Seeded) -> None:
    run_id = seeded_open.run_ids[10]
    with httpx.Client(base_url=open_server.url) as client:
        client.get(f"/runs/{run_id}")  # the session cookie
        resp = client.post(f"/runs/{run_id}/delete", data={})
        assert resp.status_code == 403 and "CSRF" in resp.text
        resp = client.post(f"/runs/{run_id}/delete", data={"csrf_token": "forged"})
        assert resp.status_code == 403
        assert client.get(f"/api/v1/runs/{run_id}").json()["lifecycle_stage"] == "active"


def _login(tab: Any, base: str, user: str, password: str) -> None:  # Any: playwright's Page
    tab.goto(base + "/login")
    tab.fill("#user", user)
    tab.fill("#password", password)
    tab.click("button[type=submit]")


def test_login_is_required_when_auth_is_on(auth_server: Any, seeded_auth: Seeded, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = auth_server.url
    target = f"/experiments/{seeded_auth.experiment_id}"
    tab.goto(base + target)
    assert tab.url.startswith(base + "/login")
    shot(tab, "login")
    tab.fill("#user", "vera")
    tab.fill("#password", "wrong-password")
    tab.click("button[type=submit]")
    assert "wrong user name or password" in tab.locator("#login-error").inner_text()
    assert tab.input_value("#user") == "vera"  # what was typed is kept (not the password)
    tab.fill("#password", PASSWORDS["vera"])
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(re.escape(target) + "$"))  # back where they were going
    expect(_rows(tab)).to_have_count(50)
    assert "vera" in tab.locator(".who").inner_text()
    # another project's experiment is neither listed nor readable
    tab.goto(base + "/")
    assert "secret-exp" not in tab.content()
    response = tab.goto(f"{base}/experiments/{seeded_auth.other_experiment_id}")
    assert response is not None and response.status == 403
    tab.goto(base + "/")
    tab.click("text=Log out")
    tab.goto(base + target)
    assert tab.url.startswith(base + "/login")
    # chromium reports the statuses of the refused documents (a failed login, a 403 page), nothing else
    assert [e for e in console.errors if not re.search(r"status of 40[13]", e)] == []


def test_a_viewer_sees_no_mutating_buttons_and_is_refused(auth_server: Any, seeded_auth: Seeded, page: tuple[Any, Console]) -> None:
    tab, _console = page
    base = auth_server.url
    run_id = seeded_auth.run_ids[7]
    _login(tab, base, "vera", PASSWORDS["vera"])
    tab.goto(f"{base}/runs/{run_id}")
    assert tab.locator("h1").inner_text() == "run-007"
    assert tab.locator("text=Delete run").count() == 0
    shot(tab, "run-viewer")
    # forging the form with a valid CSRF token: refused by the permission table, audited
    token = tab.locator("form.logout input[name=csrf_token]").get_attribute("value")
    resp = tab.request.post(f"{base}/runs/{run_id}/delete", form={"csrf_token": token or ""})
    assert resp.status == 403
    # a contributor sees the button and deleting works
    tab.click("text=Log out")
    _login(tab, base, "carl", PASSWORDS["carl"])
    tab.goto(f"{base}/runs/{run_id}")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.click("text=Delete run")
    tab.wait_for_selector("text=Restore run")
    tab.click("text=Restore run")
    tab.wait_for_selector("text=Delete run")
    # the administrator reads the audit trail through the API: the refusal and the actions
    basic = httpx.BasicAuth("root", PASSWORDS["root"])
    entries = httpx.get(f"{base}/api/v1/audit", auth=basic, params={"max_results": 10000}).json()
    rows = entries.get("entries", entries) if isinstance(entries, dict) else entries
    text = str(rows)
    assert "auth.denied" in text and "vera" in text and "carl" in text


def test_the_administrator_reads_the_audit_trail_and_grants_a_role(auth_server: Any, page: tuple[Any, Console]) -> None:
    tab, console = page
    base = auth_server.url
    _login(tab, base, "root", PASSWORDS["root"])
    tab.click("nav >> text=Audit")
    tab.wait_for_url(re.compile("/audit$"))
    assert tab.locator("#audit tbody tr").count() >= 1
    tab.click("text=Verify the hash chain")
    assert "Intact:" in tab.locator(".chain").inner_text()
    shot(tab, "audit")
    tab.click("nav >> text=Admin")
    tab.fill("#grant-user", "vera")
    tab.fill("#grant-project", "reports")
    tab.select_option("#grant-role", "reviewer")
    tab.click("text=Grant role")
    assert "granted reviewer on reports to vera" in tab.locator("[role=status]").inner_text()
    assert tab.locator("#roles tbody tr:has-text('reports')").count() == 1
    shot(tab, "admin")
    assert console.errors == []
