"""Delayed labels: ingested from CSV, Parquet or JSON (service, CLI, REST), idempotent, the
latest wins, unknown requests counted, bad files refused with a message naming the problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from prediction_testing import batch
from typer.testing import CliRunner, Result

from steward.adapters.sql._tables import audit_log
from steward.cli import app
from steward.errors import InvalidInputError, NotFoundError
from steward.settings import Settings
from steward.wiring import Services, build_services

T0 = 1_767_225_600_000


def _log_requests(services: Services, count: int = 5, rows: int = 1) -> None:
    log = services.prediction_log()
    for i in range(count):
        log.append(batch(i, T0 + i, rows=rows))
    assert log.flush()


def _labels(services: Services) -> dict[tuple[str, int], object]:
    table = services.predictions().read("fraud-api")
    return {(r["request_id"], r["row"]): r["label"] for r in table.select(["request_id", "row", "label"]).to_pylist()}


def test_ingesting_the_same_labels_twice_changes_nothing_and_the_latest_label_wins(local_services: Services) -> None:
    _log_requests(local_services)
    service = local_services.predictions()
    first = pa.table({"request_id": ["req-0", "req-1", "req-404"], "label": ["fraud", "ok", "fraud"]})

    one = service.ingest_labels("fraud-api", first)
    after_one = _labels(local_services)
    two = service.ingest_labels("fraud-api", first)

    assert one == two
    assert (one.rows, one.attached, one.unknown, one.unknown_examples) == (3, 2, 1, ("req-404",))
    assert _labels(local_services) == after_one
    assert after_one[("req-0", 0)] == "fraud" and after_one[("req-2", 0)] is None

    service.ingest_labels("fraud-api", pa.table({"request_id": ["req-0"], "label": ["ok"]}))
    assert _labels(local_services)[("req-0", 0)] == "ok"
    with local_services.store.engine.connect() as conn:
        audits = conn.execute(sa.select(audit_log.c.target, audit_log.c.details).where(audit_log.c.action == "labels.ingest")).all()
    assert len(audits) == 3 and audits[0].target == "deployments:/fraud-api"
    details = json.loads(audits[0].details) if isinstance(audits[0].details, str) else audits[0].details
    assert (details["attached"], details["unknown"], details["label_column"]) == (2, 1, "label")


def test_a_row_label_beats_the_label_of_its_whole_request(local_services: Services) -> None:
    _log_requests(local_services, count=2, rows=3)
    service = local_services.predictions()
    service.ingest_labels("fraud-api", pa.table({"request_id": ["req-0", "req-0"], "row": [None, 2], "label": [0, 1]}))
    report = service.ingest_labels("fraud-api", pa.table({"request_id": ["req-1"], "row": [7], "label": [1]}))
    labels = _labels(local_services)
    assert [labels[("req-0", r)] for r in range(3)] == [0, 0, 1]
    assert report.unknown == 1  # req-1 has rows 0..2 only


def test_labels_for_a_deployment_that_logged_nothing_are_refused(local_services: Services) -> None:
    with pytest.raises(NotFoundError, match="no predictions are logged"):
        local_services.predictions().ingest_labels("fraud-api", pa.table({"request_id": ["a"], "label": [1]}))


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        (pa.table({"id": ["req-0"], "label": [1]}), "key", "no column 'request_id'"),
        (pa.table({"request_id": ["req-0"], "y": [1]}), "label-column", "no column 'label'"),
        (pa.table({"request_id": pa.array([], pa.string()), "label": pa.array([], pa.int64())}), "file", "no rows"),
        (pa.table({"request_id": ["req-0", None], "label": [1, 0]}), "request_id", "row 2 has no request id"),
        (pa.table({"request_id": ["req-0"], "row": [-1], "label": [1]}), "row", "whole number"),
    ],
)
def test_a_bad_label_table_is_refused_naming_the_problem(local_services: Services, table: pa.Table, field: str, message: str) -> None:
    _log_requests(local_services, count=1)
    with pytest.raises(InvalidInputError, match=message) as caught:
        local_services.predictions().ingest_labels("fraud-api", table)
    assert caught.value.field == field


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    services = build_services(Settings(home=home, user="tester", capture_git=False))
    try:
        _log_requests(services)
    finally:
        services.close()
    yield home


def _cli(home: Path, *args: str) -> Result:
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update({"STEWARD_HOME": str(home), "STEWARD_USER": "tester", "STEWARD_CAPTURE_GIT": "false", "NO_COLOR": "1", "COLUMNS": "250"})
    return CliRunner().invoke(app, list(args), env=env)


def test_steward_labels_ingest_attaches_a_csv_and_a_parquet_file(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("rid,truth\nreq-0,1\nreq-1,0\nreq-9,1\nreq-2,\n")
    result = _cli(home, "labels", "ingest", str(csv), "--deployment", "fraud-api", "--key", "rid", "--label-column", "truth", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "deployment": "fraud-api", "rows": 4, "attached": 2, "unknown": 1, "missing": 1, "unknown_examples": ["req-9"],
    }
    parquet = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"request_id": ["req-3"], "label": [1]}), parquet)
    result = _cli(home, "labels", "ingest", str(parquet), "--deployment", "fraud-api")
    assert result.exit_code == 0 and "attached" in result.stdout

    read = _cli(home, "predictions", "read", "fraud-api", "--json")
    assert read.exit_code == 0, read.output
    rows = {r["request_id"]: r["label"] for r in json.loads(read.stdout)["predictions"]}
    assert rows == {"req-0": 1, "req-1": 0, "req-2": None, "req-3": 1, "req-4": None}
    out = tmp_path / "window.parquet"
    assert _cli(home, "predictions", "read", "fraud-api", "--out", str(out)).exit_code == 0
    assert pq.read_table(out).num_rows == 5
    segments = _cli(home, "predictions", "segments", "fraud-api", "--json")
    assert segments.exit_code == 0 and json.loads(segments.stdout)["segments"][0]["rows"] == 5


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("labels.csv", b"request_id,label\n\"req-0,1\n", "is not a readable CSV file"),
        ("labels.parquet", b"PAR1 not parquet", "is not a readable PARQUET file"),
        ("labels.txt", b"request_id,label\n", "must be .csv or .parquet"),
        ("labels.csv", b"id,label\nreq-0,1\n", "no column 'request_id' (--key); its columns: id, label"),
    ],
)
def test_a_bad_label_file_exits_2_with_one_line_naming_the_problem(home: Path, tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = _cli(home, "labels", "ingest", str(path), "--deployment", "fraud-api")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_label_file_exits_3(home: Path, tmp_path: Path) -> None:
    result = _cli(home, "labels", "ingest", str(tmp_path / "none.csv"), "--deployment", "fraud-api")
    assert result.exit_code == 3 and "not found" in result.stderr


# -- the REST API -------------------------------------------------------------------------


def test_labels_and_predictions_over_rest(services: Services, api: httpx.Client) -> None:
    _log_requests(services)
    try:
        posted = api.post("/api/v1/deployments/fraud-api/labels", json={"labels": [{"request_id": "req-0", "label": 1}, {"request_id": "x", "label": 0}]})
        assert posted.status_code == 200, posted.text
        assert posted.json()["attached"] == 1 and posted.json()["unknown"] == 1
        csv = api.post(
            "/api/v1/deployments/fraud-api/labels", params={"key": "rid"}, content=b"rid,label\nreq-1,0\n", headers={"content-type": "text/csv"}
        )
        assert csv.status_code == 200 and csv.json()["attached"] == 1

        window = api.get("/api/v1/deployments/fraud-api/predictions", params={"start": "2026-01-01T00:00:00Z", "end": str(T0 + 2)})
        assert window.status_code == 200
        body = window.json()
        assert body["rows"] == 2 and [p["label"] for p in body["predictions"]] == [1, 0]
        assert body["predictions"][0]["timestamp"] == "2026-01-01T00:00:00.000Z"

        arrow = api.get("/api/v1/deployments/fraud-api/predictions", params={"format": "arrow"})
        assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
        assert pa.ipc.open_stream(arrow.content).read_all().num_rows == 5
        assert len(api.get("/api/v1/deployments/fraud-api/prediction-segments").json()["segments"]) == 1
    finally:
        services.prediction_log().close()


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"json": {"labels": []}}, 422, "labels"),
        ({"json": {"labels": [{"request_id": "", "label": 1}]}}, 422, "labels.0.request_id"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, None),
        ({"content": b"a,b\n1,2\n", "headers": {"content-type": "text/csv"}}, 422, "key"),
        ({"content": b"PAR1", "params": {"format": "parquet"}}, 422, "file"),
        ({"content": b"x", "headers": {"content-type": "image/png"}}, 422, "content-type"),
    ],
)
def test_a_bad_label_body_answers_422_naming_the_field(
    services: Services, api: httpx.Client, kwargs: dict[str, object], status: int, field: str | None
) -> None:
    _log_requests(services, count=1)
    try:
        response = api.post("/api/v1/deployments/fraud-api/labels", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == "INVALID_INPUT"
        if field is not None:
            assert error["field"] == field
    finally:
        services.prediction_log().close()


def test_reading_with_a_bad_window_answers_422(api: httpx.Client) -> None:
    response = api.get("/api/v1/deployments/fraud-api/predictions", params={"start": "last tuesday"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "start"
