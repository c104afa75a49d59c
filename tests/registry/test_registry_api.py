"""REST API of the registry: the rules and status codes (the CLI, embedded and against a
server: tests/cli/test_cli_models_modes.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from registry_testing import fitted_logistic

from steward import Client


def test_the_rest_api_registers_moves_aliases_and_enforces_the_lifecycle(client: Client, api: httpx.Client) -> None:
    model, frame = fitted_logistic()
    with client.start_run("e") as run:
        run.log_model(model, "fraud", input_example=frame.head(5))
    created = api.post("/api/v1/models", json={"name": "fraud", "description": "card fraud"})
    assert created.status_code == 201
    assert api.post("/api/v1/models", json={"name": "fraud"}).status_code == 409
    v = api.post("/api/v1/models/fraud/versions", json={"run_id": run.run_id})
    assert v.status_code == 201 and v.json()["version"] == 1 and v.json()["state"] == "candidate"
    assert api.get("/api/v1/models").json()["models"][0]["name"] == "fraud"
    assert api.get("/api/v1/models/fraud/versions/1").json()["flavor"] == "sklearn"
    bad = api.post("/api/v1/models/fraud/versions/1/transitions", json={"state": "production"})
    assert bad.status_code == 409
    assert bad.json()["error"]["code"] == "CONFLICT"
    assert "allowed from candidate: approved, retired" in bad.json()["error"]["message"]
    approved = api.post("/api/v1/models/fraud/versions/1/approvals", json={"comment": "ok"}, headers={"x-steward-user": "alice"})
    assert approved.status_code == 201 and approved.json()["approvals"][0]["approver"] == "alice"
    assert api.post("/api/v1/models/fraud/versions/1/transitions", json={"state": "production"}).json()["state"] == "production"
    assert api.put("/api/v1/models/fraud/aliases/champion", json={"version": 1}).json()["aliases"] == ["champion"]
    assert api.get("/api/v1/models/fraud/resolve", params={"ref": "fraud@champion"}).json()["version"] == 1
    assert api.put("/api/v1/models/fraud/versions/1/tags", json={"key": "k", "value": "v"}).json()["tags"] == {"k": "v"}
    assert api.get("/api/v1/model-versions", params={"state": "production"}).json()["versions"][0]["version"] == 1
    assert api.delete("/api/v1/models/fraud/aliases/champion").status_code == 204
    assert api.get("/api/v1/models/nope").status_code == 404
    unknown = api.post("/api/v1/models/fraud/versions", json={"run_id": "0" * 32})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "run_id"
    assert api.post("/api/v1/models/fraud/versions", json={"run_id": "zz"}).status_code == 422
    assert api.get("/api/v1/models/fraud").json()["latest_version"] == 1


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/steward.db"
