"""REST API of dataset versions, in-process against the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import io

import httpx
import polars as pl
import pytest

from steward.wiring import Services

PARQUET = {"content-type": "application/vnd.apache.parquet"}


def parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def test_uploading_parquet_and_csv_creates_versions_that_list_get_and_diff(api: httpx.Client) -> None:
    r = api.post("/api/v1/datasets/tx/versions", content=parquet(pl.DataFrame({"a": [1, 2, 3]})), headers=PARQUET)
    assert r.status_code == 201, r.text
    assert (r.json()["ref"], r.json()["source"], r.json()["num_rows"]) == ("datasets:/tx/1", "upload", 3)
    same = api.post("/api/v1/datasets/tx/versions?format=csv", content=b"a\n1\n2\n3\n")
    assert same.json()["version"] == 1
    r2 = api.post("/api/v1/datasets/tx/versions", content=b"a,b\n5,x\n6,y\n", headers={"content-type": "text/csv"})
    assert r2.json()["version"] == 2
    assert api.get("/api/v1/datasets").json()["datasets"][0]["latest_version"] == 2
    versions = api.get("/api/v1/datasets/tx/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2] and "profile" not in versions[0]
    got = api.get("/api/v1/datasets/tx/versions/1").json()
    assert got["profile"]["columns"]["a"]["max"] == 3
    assert api.get("/api/v1/datasets/tx/versions/latest").json()["version"] == 2
    diff = api.get("/api/v1/datasets/tx/diff", params={"a": 1, "b": 2}).json()
    assert diff["added_columns"] == [{"name": "b", "type": "large_string"}] and diff["row_change"] == -1


def test_lineage_lists_runs_that_logged_the_version(api: httpx.Client, services: Services) -> None:
    api.post("/api/v1/datasets/tx/versions", content=parquet(pl.DataFrame({"a": [1]})), headers=PARQUET)
    tracking = services.tracking("tester")
    exp = tracking.create_experiment("e")
    run = tracking.create_run(exp.experiment_id, name="r")
    r = api.post(f"/api/v1/runs/{run.run_id}/inputs", json={"inputs": [{"dataset": "datasets:/tx/1", "role": "train"}]})
    assert r.status_code < 300, r.text
    lineage = api.get("/api/v1/datasets/tx/versions/1/lineage").json()
    assert [(u["run_id"], u["role"]) for u in lineage["runs"]] == [(run.run_id, "train")]


@pytest.mark.parametrize(
    ("method", "url", "body", "headers", "status", "field"),
    [
        ("post", "/api/v1/datasets/tx/versions", b"a\n1\n", {}, 422, "format"),
        ("post", "/api/v1/datasets/tx/versions?format=csv", b"", {}, 422, "body"),
        ("post", "/api/v1/datasets/tx/versions?format=xlsx", b"a", {}, 422, "format"),
        ("post", "/api/v1/datasets/tx/versions?format=parquet", b"PAR1 not really", {}, 422, "source"),
        ("post", "/api/v1/datasets/bad%20name/versions?format=csv", b"a\n1\n", {}, 422, "name"),
        ("post", "/api/v1/datasets/tx/versions?format=csv", b"a,b\n", {}, 422, "source"),
        ("get", "/api/v1/datasets/nope/versions", None, {}, 404, "name"),
        ("get", "/api/v1/datasets/nope/versions/1", None, {}, 404, "name"),
        ("get", "/api/v1/datasets/nope/versions/zero", None, {}, 422, "version"),
        ("get", "/api/v1/datasets/nope/diff?a=1", None, {}, 422, "b"),
    ],
)
def test_bad_requests_get_the_one_error_shape_and_register_nothing(
    api: httpx.Client, method: str, url: str, body: bytes | None, headers: dict[str, str], status: int, field: str
) -> None:
    r = api.request(method, url, content=body, headers=headers)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["message"]
    assert "/tmp/" not in error["message"]
    assert api.get("/api/v1/datasets").json() == {"datasets": []}
