"""Validation REST API: suites CRUD and validations of dataset versions, in-process."""

from __future__ import annotations

import httpx
import polars as pl

from steward.wiring import Services

SUITE = "name: orders\ncolumns:\n  id: {unique: true}\n  amount: {min: 0}\n"


def test_suites_can_be_created_read_updated_listed_and_deleted(api: httpx.Client) -> None:
    created = api.post("/api/v1/suites", json={"yaml": SUITE})
    assert created.status_code == 201 and created.json()["ref"] == "suites:/orders/1"
    assert api.post("/api/v1/suites", json={"yaml": SUITE}).json()["version"] == 1
    updated = api.put("/api/v1/suites/orders", json={"yaml": SUITE.replace("min: 0", "min: 1")})
    assert updated.json()["version"] == 2
    assert api.get("/api/v1/suites/orders").json()["version"] == 2
    assert "min: 0" in api.get("/api/v1/suites/orders/versions/1").json()["yaml"]
    assert [s["version"] for s in api.get("/api/v1/suites").json()["suites"]] == [1, 2]
    assert api.delete("/api/v1/suites/orders").status_code == 204
    assert api.get("/api/v1/suites/orders").status_code == 404


def test_a_malformed_suite_is_a_422_naming_the_line(api: httpx.Client) -> None:
    response = api.post("/api/v1/suites", json={"yaml": "name: s\ncolumns:\n  a: {type: nope}\n"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_INPUT" and "line 3" in response.json()["error"]["message"]
    assert api.put("/api/v1/suites/other", json={"yaml": SUITE}).status_code == 422


def test_validating_a_version_returns_the_result_and_records_it(api: httpx.Client, services: Services) -> None:
    version = services.data("tester").register("orders", pl.DataFrame({"id": [1, 1], "amount": [1.0, -1.0]}))
    api.post("/api/v1/suites", json={"yaml": SUITE})
    response = api.post("/api/v1/validations", json={"dataset": version.ref, "suite": "orders"})
    assert response.status_code == 200
    body = response.json()
    assert body["passed"] is False and {c["name"] for c in body["checks"] if not c["passed"]} == {"unique", "range"}
    listed = api.get("/api/v1/validations", params={"dataset": version.ref}).json()["validations"]
    assert len(listed) == 1 and listed[0]["suite"] == "suites:/orders/1"


def test_the_server_refuses_file_paths_and_unknown_refs(api: httpx.Client) -> None:
    api.post("/api/v1/suites", json={"yaml": SUITE})
    response = api.post("/api/v1/validations", json={"dataset": "/etc/passwd", "suite": "orders"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "dataset"
    assert api.post("/api/v1/validations", json={"dataset": "nope:1", "suite": "orders"}).status_code == 404
    assert api.post("/api/v1/validations", json={"dataset": "nope:1", "suite": "missing"}).status_code == 404
