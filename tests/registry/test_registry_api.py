"""REST API and CLI of the registry: the same rules, status codes and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from registry_testing import fitted_logistic

from steward import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_testing import Cli, cli_env_for, client_settings


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


def test_the_cli_lists_shows_moves_and_exits_with_the_error_tree_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(cli_env_for(home))
    c = Client(client_settings(home))
    try:
        model, frame = fitted_logistic()
        with c.start_run("e") as run:
            run.log_model(model, "fraud", input_example=frame.head(5))
    finally:
        c.close()
    assert cli("models", "register", "fraud", "--run", run.run_id).exit_code == 0
    listed = cli("models", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout)["models"][0]["latest_version"] == 1
    invalid = cli("models", "transition", "fraud:1", "production")
    assert invalid.exit_code == 5 and "allowed from candidate: approved, retired" in invalid.stderr
    assert cli("models", "show", "fraud:7").exit_code == 3
    assert cli("models", "approve", "fraud:1", "-m", "good").exit_code == 0
    assert cli("models", "transition", "fraud:1", "production").exit_code == 0
    assert cli("models", "alias", "fraud:1", "champion").exit_code == 0
    shown = json.loads(cli("models", "show", "fraud@champion", "--json").stdout)
    assert (shown["state"], shown["aliases"]) == ("production", ["champion"])
    assert cli("models", "package", "fraud@champion", "--out", str(tmp_path / "b")).exit_code == 0
    assert (tmp_path / "b" / "Dockerfile").exists()
    assert cli("models", "retire", "fraud:1").exit_code == 5  # production -> retired is not allowed
    assert cli("models", "transition", "fraud:1", "deprecated").exit_code == 0
    assert cli("models", "retire", "fraud:1").exit_code == 0
    refused = cli("models", "package", "fraud:1", "--out", str(tmp_path / "c"))
    assert refused.exit_code == 5 and "retired" in refused.stderr
    table = cli("models", "show", "fraud")
    assert "fraud:1" in table.stdout and "retired" in table.stdout
