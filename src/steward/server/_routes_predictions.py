"""REST routes of the prediction log: read a deployment's logged predictions (labels joined),
list its segments, and attach delayed ground truth."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from steward.errors import InvalidInputError
from steward.predictions import PredictionService
from steward.predictions._labels import labels_table, read_label_bytes

from ._deps import current_actor, services

router = APIRouter(prefix="/api/v1", tags=["predictions"])
JSON = dict[str, Any]  # Any: JSON values
ARROW_STREAM = "application/vnd.apache.arrow.stream"
_DEPLOYMENT = "/deployments/{name}"
_KINDS = {"text/csv": "csv", "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet", "application/json": "json"}
Time = Annotated[str | None, Query(max_length=40, description="ISO-8601 time (UTC when no offset) or epoch milliseconds.")]


def prediction_service(request: Request) -> PredictionService:
    return services(request).predictions(current_actor(request))


Predictions = Annotated[PredictionService, Depends(prediction_service)]


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: Annotated[str, Field(min_length=1, max_length=128)]
    row: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    label: bool | int | float | str | None


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[LabelIn], Field(min_length=1, max_length=1_000_000)]


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@router.get(f"{_DEPLOYMENT}/predictions", summary="Logged predictions of a time window, labels joined", response_model=None)
def read_predictions(
    name: str,
    svc: Predictions,
    start: Time = None,
    end: Time = None,
    format: Annotated[str, Query(pattern="^(json|arrow)$", description="json (capped by max_results) or arrow (an Arrow IPC stream, whole)")] = "json",
    max_results: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> JSON | Response:
    table = svc.read(name, start, end)
    if format == "arrow":
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)
    shown = table.slice(0, max_results)
    records = [{k: _json_safe(v) for k, v in row.items()} for row in shown.to_pylist()]
    return {"deployment": name, "rows": table.num_rows, "truncated": table.num_rows > max_results, "predictions": records}


@router.get(f"{_DEPLOYMENT}/prediction-segments", summary="The indexed Parquet segments of a deployment's log")
def list_prediction_segments(name: str, svc: Predictions, start: Time = None, end: Time = None) -> JSON:
    return {"segments": [s.to_dict() for s in svc.list_segments(name, start, end)]}


@router.post(
    f"{_DEPLOYMENT}/labels",
    summary="Attach delayed ground truth (JSON labels, or a CSV/Parquet body); idempotent, the latest label wins",
)
async def ingest_labels(
    name: str,
    request: Request,
    svc: Predictions,
    key: Annotated[str, Query(min_length=1, max_length=250, description="Column of a CSV/Parquet body holding the request id.")] = "request_id",
    label_column: Annotated[str, Query(min_length=1, max_length=250)] = "label",
    format: Annotated[str | None, Query(pattern="^(json|csv|parquet)$", description="Body format; default from Content-Type.")] = None,
    source: Annotated[str, Query(max_length=200, description="Recorded in the audit trail (e.g. the file name).")] = "upload",
) -> JSON:
    kind = format or _KINDS.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if kind is None:
        raise InvalidInputError("send labels as application/json, text/csv or application/vnd.apache.parquet", field="content-type")
    body = await request.body()
    if kind == "json":
        try:
            parsed = LabelsIn.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise InvalidInputError(f"{where}: {first['msg']}", field=where) from None
        table = labels_table([lab.request_id for lab in parsed.labels], [lab.row for lab in parsed.labels], [lab.label for lab in parsed.labels])
        key, label_column = "request_id", "label"
    else:
        table = read_label_bytes(body, kind, name="the request body", key=key)
    # reading the log's request ids and writing the labels block: off the event loop
    report = await run_in_threadpool(svc.ingest_labels, name, table, key=key, label_column=label_column, source=source)
    return report.to_dict()
