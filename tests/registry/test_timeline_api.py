"""GET /api/v1/models/{name}/timeline with authentication on: readers of the model's project
see its history (what callers did over REST included, with their names); another project's
contributor and a user with no role are refused; bad bounds are a 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client, Settings
from steward.wiring import Services


@pytest.fixture
def world(settings: Settings, services: Services, sync_asgi_transport: Any) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    from sklearn.linear_model import LogisticRegression

    from steward.server import create_app

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "count": rng.integers(0, 5, 60)})
    model = LogisticRegression().fit(frame, (frame["amount"] > 0).astype(int))
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        with client.start_run("timeline-tests") as run:
            run.log_model(model, "fraud", input_example=frame.head(3), registered_model_name="fraud")
    finally:
        client.close()
    gov = services.governance("setup")
    tokens = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
    for user, project, role in [("vic", "fraud", "viewer"), ("rita", "fraud", "reviewer"), ("otto", "other", "contributor"), ("nobody", None, None)]:
        gov.create_user(user, f"{user}@example.com")
        if project is not None and role is not None:
            gov.grant_role(user, project, role)
        tokens[user] = gov.create_token(user, scopes=("read", "write")).secret
    app = create_app(settings.model_copy(update={"auth": "on"}), services)
    transport = sync_asgi_transport(app)
    with httpx.Client(transport=transport, base_url="http://steward.test") as api:
        yield api, {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    transport.close()


def test_a_viewer_reads_the_timeline_with_what_a_reviewer_did_over_rest(world: Any) -> None:
    api, auth = world
    approved = api.post("/api/v1/models/fraud/versions/1/approvals", json={"comment": "looks right"}, headers=auth["rita"])
    assert approved.status_code in (200, 201), approved.text
    resp = api.get("/api/v1/models/fraud/timeline", headers=auth["vic"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == "fraud" and body["next_after"] is None
    kinds = [(e["kind"], e["actor"], e["versions"]) for e in body["events"]]
    assert any(k[0] == "version registered" and k[2] == [1] for k in kinds)
    assert kinds[-1] == ("approved", "rita", [1])
    assert body["events"][-1]["target"] == "models:/fraud/1"


@pytest.mark.parametrize("user", ["otto", "nobody"])
def test_another_projects_contributor_and_a_user_with_no_role_are_refused(world: Any, services: Services, user: str) -> None:
    api, auth = world
    resp = api.get("/api/v1/models/fraud/timeline", headers=auth[user])
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == "PERMISSION_DENIED"
    denials = [e for e in services.store.list_audit() if e.action == "auth.denied" and e.actor == user]
    assert denials and "models.read" in str(denials[-1].details.get("reason"))


def test_without_a_token_the_timeline_is_401(world: Any) -> None:
    api, _ = world
    assert api.get("/api/v1/models/fraud/timeline").status_code == 401


def test_an_unknown_model_is_404_and_bad_bounds_name_the_field(world: Any) -> None:
    api, auth = world
    missing = api.get("/api/v1/models/nope/timeline", headers=auth["root"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    for params in ({"max_results": 0}, {"max_results": 10_001}, {"after": -1}, {"after": "x"}):
        resp = api.get("/api/v1/models/fraud/timeline", params=params, headers=auth["vic"])
        assert 400 <= resp.status_code < 500 and resp.status_code != 404, (params, resp.text)
        assert next(iter(params)) in resp.text
