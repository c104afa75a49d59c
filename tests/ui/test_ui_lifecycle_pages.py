"""The lifecycle pages in this process with authentication off (actions act as the server's
user, as the REST API does): promote, refused values kept in the form, CSRF, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from ui_lifecycle_world import LifecycleSeeded

from steward.wiring import Services, build_services


@pytest.fixture(scope="module")
def open_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Services]]:  # Any: FastAPI
    from steward.server import create_app

    seeded = LifecycleSeeded(tmp_path_factory.mktemp("ui-lc-open"), "off")
    settings = seeded.settings.model_copy(update={"user": "server"})
    services = build_services(settings)
    yield create_app(settings, services), services
    services.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_promote_acts_as_the_server_user_and_is_audited(open_world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = open_world
    client = asgi_client(app)
    page = client.get("/deployments/fraud-api")
    assert page.status_code == 200 and 'id="promote-form"' in page.text
    # no token: refused, nothing changed
    before = services.deployments("x").get_deployment("fraud-api").plan.revision
    assert client.post("/deployments/fraud-api/promote", data={"reason": "x"}).status_code == 403
    assert services.deployments("x").get_deployment("fraud-api").plan.revision == before
    done = client.post("/deployments/fraud-api/promote", data={"csrf_token": _csrf(page.text), "reason": "candidate <b>won</b>"})
    assert done.status_code == 303 and done.headers["location"].startswith("/deployments/fraud-api?done=promoted")
    after = services.deployments("x").get_deployment("fraud-api")
    primary = after.variant("primary")
    assert primary is not None and primary.model.startswith("fraud:2") and primary.weight == 100
    shown = client.get(done.headers["location"])
    assert "candidate &lt;b&gt;won&lt;/b&gt;" in shown.text and "<b>won</b>" not in shown.text
    assert any(e.action == "deployments.promote" and e.actor == "server" for e in services.store.list_audit(target="deployments:/fraud-api"))
    # nothing left to promote: the page again with the error, the reason kept
    again = client.post("/deployments/fraud-api/promote", data={"csrf_token": _csrf(page.text), "reason": "twice"})
    if again.status_code != 303:
        assert again.status_code in (400, 409, 422) and 'id="action-error"' in again.text


def test_a_forbidden_transition_is_shown_with_the_form_kept(open_world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = open_world
    client = asgi_client(app)
    page = client.get("/models/fraud?version=3")
    resp = client.post("/models/fraud/versions/3/transition", data={"csrf_token": _csrf(page.text), "state": "production", "comment": "too early"})
    assert resp.status_code == 409 and "cannot move a version from candidate to production" in resp.text
    assert 'value="too early"' in resp.text
    assert services.registry("x").get_version("fraud", 3).state.value == "candidate"
    bad = client.post("/models/fraud/versions/x/approve", data={"csrf_token": _csrf(page.text), "comment": "ok"})
    assert bad.status_code == 404 and "Not found" in bad.text
    assert client.get("/models/fraud?version=1&evaluation=999").status_code == 404


def test_a_rollout_shows_its_steps_and_progress(open_world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, services = open_world
    client = asgi_client(app)
    deployments = services.deployments("dana")
    deployments.create_deployment("fraud-rollout", "fraud:1")
    deployments.start_rollout("fraud-rollout", "fraud:2", "steps: [10, 50, 100]\nmin_requests: 50\nmin_duration: 0s\n", reason="release 2")
    page = client.get("/deployments/fraud-rollout")
    assert page.status_code == 200
    steps = re.search(r'<ol class="steps" id="rollout-steps">(.*?)</ol>', page.text, re.DOTALL)
    assert steps and "10%" in steps.group(1) and "(current)" in steps.group(1) and "100%" in steps.group(1)
    assert '<progress max="3" value="1"' in page.text
    assert "The controller would now" in page.text
    assert client.get("/deployments").text.count("fraud-rollout") >= 1
