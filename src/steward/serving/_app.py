"""The inference server: a plain ASGI application (no framework on the request path).

Routes: ``POST /predict`` (JSON records, split or instances; Arrow IPC), the Open Inference
Protocol v2 (``/v2/health/*``, ``/v2/models/{name}[/versions/{v}][/infer|/explain|/ready]``)
and ``GET /metrics``. Every answer carries ``x-request-id`` and the model, version and
variant that answered; every error is ``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from steward import __version__
from steward.core.predictions import PredictionBatch, PredictionSink
from steward.core.traffic import TrafficPlan, Variant
from steward.errors import InvalidInputError, NotFoundError, StewardError
from steward.settings import Settings

from ._batching import Inflow, MicroBatcher
from ._explain import explain
from ._metrics import ServingMetrics, StatsWindow
from ._models import Router, ServedModel
from ._oip import decode_infer, encode_infer, model_metadata
from ._payloads import Outputs, Rows, dumps, predictions_json
from ._runtime import Runtime

if TYPE_CHECKING:
    from steward.features import FeatureLookup

__all__ = ["ServingApp"]

log = logging.getLogger("steward.serving")

ARROW = b"application/vnd.apache.arrow.stream"
_JSON = b"application/json"
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_V2_MODEL = re.compile(r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?:/(?P<action>infer|explain|ready))?$")

Scope = dict[str, Any]  # Any: the ASGI scope
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]  # Any: ASGI messages


class _TooLarge(Exception):
    pass


class _MalformedError(InvalidInputError):
    """The body is not the JSON or Arrow it claims to be (400, as the REST API answers)."""

    status = 400
    code = "BAD_REQUEST"


class _Counted(Exception):
    """A prediction failure already counted in the variant's metrics."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Gone(Exception):
    """The client went away before sending its whole body."""


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: bytes = _JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()
    counted: bool = False  # already in the per-variant metrics


class ServingApp:
    """ASGI application serving one model or one deployment.

    Args:
        runtime: loads versions, follows the deployment, reports stats, owns the prediction log.
        settings: the process's settings (batch bounds, body limit).
    """

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.max_body = settings.serve_max_request_bytes
        self.metrics: ServingMetrics | None = None
        self.inflow = Inflow()
        self.router = Router(self._batcher)
        self.window: StatsWindow | None = None
        self.sink: PredictionSink | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._children: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}  # Any: prometheus-client's metric children
        self.lookup: FeatureLookup | None = None  # the deployment's declared features (docs/serving.md)

    # -- lifecycle ---------------------------------------------------------------------------

    def _batcher(self, model: ServedModel, ref: str) -> MicroBatcher:
        metrics = self.metrics
        deployment = self.runtime.target.deployment or model.name
        observe = None
        if metrics is not None:
            child = metrics.batch_size.labels(deployment, model.name, str(model.version), "")
            observe = child.observe
        return MicroBatcher(
            model.predict_rows, max_batch=self.settings.serve_max_batch_size,
            max_wait_s=self.settings.serve_max_wait_ms / 1000, inflow=self.inflow, on_batch=observe, name=ref,
        )

    async def startup(self) -> None:
        self.metrics = ServingMetrics()
        loop = asyncio.get_running_loop()
        plan, loaded = await loop.run_in_executor(None, self.runtime.initial)
        self.router.install(plan, loaded)
        self.lookup = await loop.run_in_executor(None, self.runtime.feature_lookup)
        self.window = StatsWindow(plan.deployment)
        self.sink = self.runtime.sink()
        self.runtime.start(self._install_threadsafe(loop), self.window, self.router, self._set_lookup)

    def _set_lookup(self, lookup: FeatureLookup | None) -> None:
        self.lookup = lookup  # one attribute swap: a request reads either the old or the new lookup

    def _install_threadsafe(self, loop: asyncio.AbstractEventLoop) -> Callable[[TrafficPlan, dict[str, ServedModel]], None]:
        def install(plan: TrafficPlan, loaded: dict[str, ServedModel]) -> None:
            done = threading.Event()

            def run() -> None:
                try:
                    for old in self.router.install(plan, loaded):
                        if old.batcher is not None:
                            loop.create_task(old.batcher.close())
                finally:
                    done.set()

            loop.call_soon_threadsafe(run)
            done.wait(30)

        return install

    async def shutdown(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        for model in list(self.router.models.values()):
            if model.batcher is not None:
                await model.batcher.close()
        await asyncio.get_running_loop().run_in_executor(None, self.runtime.stop)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # noqa: BLE001 - reported to the server, which exits with one line
                    text = exc.message if isinstance(exc, StewardError) else f"{type(exc).__name__}: {exc}"
                    log.error("cannot start serving: %s", text)
                    await send({"type": "lifespan.startup.failed", "message": text})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = given if given is not None and _REQUEST_ID.match(given) else uuid.uuid4().hex.encode()
        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            answer = await self._dispatch(scope, receive, headers, request_id)
        except StewardError as exc:
            answer = _error(exc.status, exc.code, exc.message, exc.field)
        except _Counted as counted:
            failure = counted.error
            if isinstance(failure, StewardError):
                answer = _error(failure.status, failure.code, failure.message, failure.field, counted=True)
            else:
                log.error("prediction failed", exc_info=failure)
                answer = _error(500, "MODEL_ERROR", "the model failed on this request; see the server log", counted=True)
        except _TooLarge:
            answer = _error(413, "PAYLOAD_TOO_LARGE", f"request body over {self.max_body} bytes")
        except _Gone:
            return
        except Exception:
            log.exception("prediction failed")
            answer = _error(500, "MODEL_ERROR", "the model failed on this request; see the server log")
        finally:
            if metrics is not None:
                metrics.in_flight.dec()
        if answer.status >= 400 and metrics is not None and not answer.counted:
            plan = self.router.plan
            metrics.errors.labels(plan.deployment if plan is not None else "", "", "", "", str(answer.status)).inc()
        await send({
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-type", answer.content_type), (b"content-length", str(len(answer.body)).encode()),
                (b"x-request-id", request_id), *answer.headers,
            ],
        })
        await send({"type": "http.response.body", "body": answer.body})

    async def _dispatch(self, scope: Scope, receive: Receive, headers: dict[bytes, bytes], request_id: bytes) -> _Answer:
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST":
            if path == "/predict":
                return await self._predict(receive, headers, request_id)
            found = _V2_MODEL.match(path)
            if found is not None and found["action"] in ("infer", "explain"):
                return await self._v2(found, receive, headers, request_id)
        elif method in ("GET", "HEAD"):
            if path == "/v2/health/live" or path == "/healthz":
                return _ok({"live": True})
            if path == "/v2/health/ready" or path == "/readyz":
                ready = self.router.ready
                return _Answer(200 if ready else 503, dumps({"ready": ready}))
            if path == "/metrics":
                assert self.metrics is not None
                return _Answer(200, self.metrics.render(), b"text/plain; version=0.0.4; charset=utf-8")
            if path == "/v2":
                return _ok({"name": "steward", "version": __version__, "extensions": ["binary_tensor_data"]})
            found = _V2_MODEL.match(path)
            if found is not None and found["action"] in (None, "ready"):
                return self._v2_get(found)
        if path == "/predict" or path.startswith("/v2/"):
            return _error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
        return _error(404, "NOT_FOUND", f"no route {path[:200]}")

    async def _read(self, receive: Receive, headers: dict[bytes, bytes]) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _TooLarge()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Gone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- /predict --------------------------------------------------------------------------------

    async def _predict(self, receive: Receive, headers: dict[bytes, bytes], request_id: bytes) -> _Answer:
        started = time.perf_counter()
        arrived_ms = int(time.time() * 1000)
        self.inflow.start()
        try:
            body = await self._read(receive, headers)
            content_type = headers.get(b"content-type", _JSON).split(b";")[0].strip().lower()
            arrow = content_type == ARROW
            sticky = self.router.plan.sticky_key if self.router.plan is not None else None
            doc = _arrow_table(body) if arrow else _json(body)
            key = _header_key(headers) or (_arrow_key(doc, sticky) if arrow else _json_key(doc, sticky))
            variant, model = self.router.route(key)
            lookup = self.lookup
            if lookup is None:
                rows = _decode(model, doc, arrow, sticky)
            else:
                records = _request_records(doc, arrow)
        finally:
            self.inflow.done()
        missing: list[bool] | None = None
        if lookup is not None:
            rows, completed, missing = await self._looked_up(lookup, model, records, sticky)
            doc, arrow = completed, False  # shadows are sent the completed rows
        outputs = await self._answer(variant, model, rows, started, arrived_ms, request_id)
        self._mirror(doc, arrow, sticky, rows, model, request_id, arrived_ms)
        meta = _meta_headers(self.router.plan, variant, model)
        if arrow or ARROW in headers.get(b"accept", b""):
            return _Answer(200, _arrow_out(outputs), ARROW, meta)
        document: dict[str, Any] = {  # Any: JSON
            "predictions": predictions_json(outputs), "model_name": model.name,
            "model_version": str(model.version), "variant": variant.name,
        }
        if missing is not None:
            document["features_missing"] = missing
        return _Answer(200, dumps(document), _JSON, meta)

    async def _looked_up(
        self, lookup: FeatureLookup, model: ServedModel, records: list[dict[str, Any]], sticky: str | None
    ) -> tuple[Rows, list[dict[str, Any]], list[bool]]:  # Any: JSON values
        """Complete entity-key rows from the online store (one round trip) and check them.

        A row whose entity has no fresh value gets nulls: NaN for a nullable float input,
        else the request is refused (422) naming the join key (docs/serving.md).
        """
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, lookup.complete, records)
        schema = model.schema
        for i, used in enumerate(found.used):
            if not used["missing"]:
                continue
            for name, value in used["values"].items():
                at = schema.index.get(name)
                if value is None and at is not None and not (schema.specs[at].nullable and schema.kinds[at] == "float"):
                    view = next((v for v, state in used["status"].items() if state != "present"), "")
                    keys = ", ".join(f"{k}={records[i].get(k)!r}"[:80] for k in sorted(lookup.join_keys()) if k in records[i])
                    state = used["status"].get(view, "missing")
                    raise InvalidInputError(
                        f"row {i}: feature view {view} has no fresh value for {keys} ({state}), and the model's input "
                        f"{name} does not take nulls",
                        field=next(iter(sorted(lookup.join_keys())), name),
                    )
        extra = (lookup.join_keys() | lookup.names | ({sticky} if sticky else set())) - set(schema.names)
        rows = schema.from_records(found.rows, frozenset(extra))
        return rows, found.rows, [bool(u["missing"]) for u in found.used]

    async def _answer(
        self, variant: Variant, model: ServedModel, rows: Rows, started: float, arrived_ms: int, request_id: bytes
    ) -> Outputs:
        """Predict through the batcher; count, time and log the request."""
        plan = self.router.plan
        assert plan is not None and self.metrics is not None
        labels = (plan.deployment, model.name, str(model.version), variant.name)
        try:
            outputs, cpu_s = await model.predict_measured(rows)
        except StewardError as exc:
            self._observe(labels, plan.revision, variant, model, started, exc.status)
            raise _Counted(exc) from exc
        except Exception as exc:
            self._observe(labels, plan.revision, variant, model, started, 500)
            raise _Counted(exc) from exc
        latency_ms = self._observe(labels, plan.revision, variant, model, started, None, cpu_s=cpu_s, rows=rows.n)
        if self.sink is not None:
            self.sink.append(PredictionBatch(
                request_id.decode(), plan.deployment, model.name, model.version, variant.name,
                _inputs(model, rows), _log_outputs(outputs), latency_ms, arrived_ms, cpu_ms=cpu_s * 1000,
            ))
        return outputs

    def _observe(
        self, labels: tuple[str, str, str, str], revision: int, variant: Variant, model: ServedModel, started: float, status: int | None,
        *, cpu_s: float = 0.0, rows: int = 0,
    ) -> float:
        assert self.metrics is not None and self.window is not None
        seconds = time.perf_counter() - started
        children = self._children.get(labels)
        if children is None:
            # prometheus-client's labels() takes a lock and builds a key: once per variant, not per request
            children = self._children[labels] = (self.metrics.requests.labels(*labels), self.metrics.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)
        if status is not None:
            self.metrics.errors.labels(*labels, str(status)).inc()
        self.window.observe(
            revision, variant.name, model.ref, seconds * 1000, status is not None and status >= 500, cpu_ms=cpu_s * 1000, rows=rows
        )
        return seconds * 1000

    def _mirror(
        self, doc: Any, arrow: bool, sticky: str | None, rows: Rows, primary: ServedModel, request_id: bytes, arrived_ms: int
    ) -> None:  # Any: the parsed body
        """Send the request to every shadow variant in the background; the answer is only logged."""
        for variant, model in self.router.shadows():
            task = asyncio.get_running_loop().create_task(
                self._shadow(variant, model, doc, arrow, sticky, rows if model.schema.names == primary.schema.names else None, request_id, arrived_ms)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _shadow(
        self, variant: Variant, model: ServedModel, doc: Any, arrow: bool, sticky: str | None, rows: Rows | None,
        request_id: bytes, arrived_ms: int,
    ) -> None:  # Any: the parsed body
        started = time.perf_counter()
        plan = self.router.plan
        assert plan is not None and self.metrics is not None
        labels = (plan.deployment, model.name, str(model.version), variant.name)
        try:
            checked = rows if rows is not None else _decode(model, doc, arrow, sticky)
            outputs, cpu_s = await model.predict_measured(checked)
        except Exception as exc:  # noqa: BLE001 - a shadow's failure is counted, never seen by the caller
            self._observe(labels, plan.revision, variant, model, started, exc.status if isinstance(exc, StewardError) else 500)
            return
        latency_ms = self._observe(labels, plan.revision, variant, model, started, None, cpu_s=cpu_s, rows=checked.n)
        if self.sink is not None:
            self.sink.append(PredictionBatch(
                request_id.decode(), plan.deployment, model.name, model.version, variant.name,
                _inputs(model, checked), _log_outputs(outputs), latency_ms, arrived_ms, shadow=True, cpu_ms=cpu_s * 1000,
            ))

    # -- v2 ------------------------------------------------------------------------------------------

    def _v2_model(self, name: str, version: str | None) -> tuple[Variant | None, ServedModel]:
        if not self.router.knows(name):
            raise NotFoundError(f"model {name[:100]} is not served here", field="model_name")
        if version is None:
            return None, self.router.route(None)[1]
        if not version.isdigit():
            raise NotFoundError(f"version {version[:20]} of {name} is not served here", field="version")
        return self.router.pinned(name, int(version))

    def _v2_get(self, found: re.Match[str]) -> _Answer:
        _, model = self._v2_model(found["name"], found["version"])
        if found["action"] == "ready":
            return _ok({"name": found["name"], "ready": True})
        return _ok(model_metadata(model, found["name"]))

    async def _v2(self, found: re.Match[str], receive: Receive, headers: dict[bytes, bytes], request_id: bytes) -> _Answer:
        started = time.perf_counter()
        arrived_ms = int(time.time() * 1000)
        name, version = found["name"], found["version"]
        self.inflow.start()
        try:
            body = await self._read(receive, headers)
            if not self.router.knows(name):
                raise NotFoundError(f"model {name[:100]} is not served here", field="model_name")
            if found["action"] == "explain":
                return await self._explain(name, version, body, request_id)
            header = headers.get(b"inference-header-content-length")
            length = int(header) if header is not None and header.isdigit() else None
            sticky = self.router.plan.sticky_key if self.router.plan is not None else None
            key = _header_key(headers)
            if version is not None:
                variant, model = self._v2_model(name, version)
                assert variant is not None
            else:
                # the sticky key travels as an input tensor: decode against the primary's schema to read it
                variant, model = self.router.route(key)
            request = decode_infer(body, length, model.schema, sticky)
            if version is None and key is None and request.key is not None:
                variant2, model2 = self.router.route(request.key)
                if model2 is not model:
                    request = decode_infer(body, length, model2.schema, sticky)
                variant, model = variant2, model2
        finally:
            self.inflow.done()
        outputs = await self._answer(variant, model, request.rows, started, arrived_ms, request_id)
        if version is None:
            self._mirror(None, False, sticky, request.rows, model, request_id, arrived_ms)
        payload, head = encode_infer(
            outputs, model_name=name, model_version=model.version, request_id=request.id, binary=request.binary_output,
            extra={"variant": variant.name, "request_id": request_id.decode()},
        )
        meta = _meta_headers(self.router.plan, variant, model)
        if head is not None:
            meta = (*meta, (b"inference-header-content-length", str(head).encode()))
            return _Answer(200, payload, b"application/octet-stream", meta)
        return _Answer(200, payload, _JSON, meta)

    async def _explain(self, name: str, version: str | None, body: bytes, request_id: bytes) -> _Answer:
        doc = _json(body)
        variant, model = self._v2_model(name, version)
        if variant is None:
            variant, model = self.router.route(_json_key(doc, None))
        baseline = doc.get("baseline") if isinstance(doc, dict) else None
        rows = _decode(model, doc, False, None)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, explain, model, rows, baseline)
        result.update({"model_name": model.name, "model_version": str(model.version), "variant": variant.name})
        return _Answer(200, dumps(result), _JSON, _meta_headers(self.router.plan, variant, model))


# -- helpers ---------------------------------------------------------------------------------------


def _error(status: int, code: str, message: str, field: str | None = None, *, counted: bool = False) -> _Answer:
    body: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return _Answer(status, dumps({"error": body}), counted=counted)


def _ok(document: object) -> _Answer:
    return _Answer(200, dumps(document))


def _meta_headers(plan: TrafficPlan | None, variant: Variant, model: ServedModel) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-steward-deployment", (plan.deployment if plan is not None else model.name).encode()),
        (b"x-steward-model", model.name.encode()),
        (b"x-steward-model-version", str(model.version).encode()),
        (b"x-steward-variant", variant.name.encode()),
    )


def _header_key(headers: dict[bytes, bytes]) -> str | None:
    value = headers.get(b"x-steward-key")
    return value.decode("utf-8", "replace") if value else None


def _json(body: bytes) -> Any:  # Any: decoded JSON
    if not body:
        raise InvalidInputError("the request body is empty", field="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _MalformedError("request body is not valid JSON", field="body") from None


def _records_of(doc: Any) -> Any:  # Any: decoded JSON
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for name in ("dataframe_records", "records", "instances", "inputs"):
            value = doc.get(name)
            if isinstance(value, list):
                return value
    return None


def _json_key(doc: Any, sticky: str | None) -> str | None:  # Any: decoded JSON
    """The sticky key's value in the first row (records, split or instances)."""
    if sticky is None:
        return None
    records = _records_of(doc)
    if records and isinstance(records[0], dict):
        value = records[0].get(sticky)
        return None if value is None else str(value)
    split = doc.get("dataframe_split", doc) if isinstance(doc, dict) else None
    if isinstance(split, dict) and isinstance(split.get("columns"), list) and sticky in split["columns"]:
        data = split.get("data")
        if isinstance(data, list) and data and isinstance(data[0], list) and len(data[0]) == len(split["columns"]):
            return str(data[0][split["columns"].index(sticky)])
    return None


def _request_records(doc: Any, arrow: bool) -> list[dict[str, Any]]:  # Any: the parsed body, JSON values
    """The rows of a request to complete from the feature store, as records."""
    if arrow:
        return list(doc.to_pylist())
    records: Any = None  # Any: JSON
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        split = doc.get("dataframe_split", doc if "columns" in doc and "data" in doc else None)
        if isinstance(split, dict):
            columns, data = split.get("columns"), split.get("data")
            if isinstance(columns, list) and isinstance(data, list) and all(isinstance(r, list) and len(r) == len(columns) for r in data):
                records = [dict(zip(columns, r, strict=True)) for r in data]
        for name in ("dataframe_records", "records", "instances"):
            if records is None and isinstance(doc.get(name), list):
                records = doc[name]
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise InvalidInputError(
            "this deployment looks features up: send rows as objects with their entity keys, e.g. [{\"customer_id\": 42}]",
            field="records",
        )
    return records


def _decode(model: ServedModel, doc: Any, arrow: bool, sticky: str | None) -> Rows:  # Any: parsed body
    """Check the parsed body against ``model``'s signature (the sticky-key field is not an input)."""
    schema = model.schema
    ignore = frozenset((sticky,)) if sticky is not None and sticky not in schema.index else frozenset()
    if arrow:
        columns = {name: doc.column(name).to_numpy(zero_copy_only=False) for name in doc.column_names if name not in ignore}
        _check_arrow_types(doc, schema.names, schema.kinds)
        return schema.from_columns(columns, doc.num_rows)
    if isinstance(doc, list):
        if not doc:
            raise InvalidInputError("the request holds no rows", field="records")
        return schema.from_records(doc, ignore)
    if not isinstance(doc, dict):
        raise InvalidInputError("expected records, {columns, data} or {instances}", field="body")
    if "dataframe_split" in doc or ("columns" in doc and "data" in doc):
        split = doc.get("dataframe_split", doc)
        if not isinstance(split, dict):
            raise InvalidInputError("dataframe_split must be an object with columns and data", field="dataframe_split")
        return schema.from_split(split.get("columns"), split.get("data"), ignore)
    for name in ("dataframe_records", "records"):
        if name in doc:
            value = doc[name]
            if not isinstance(value, list) or not value:
                raise InvalidInputError(f"{name} must be a non-empty list of rows", field=name)
            return schema.from_records(value, ignore)
    if "instances" in doc:
        return schema.from_instances(doc["instances"], ignore)
    if "inputs" in doc:
        value = doc["inputs"]
        if isinstance(value, dict):
            lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
            if len(lengths) != 1 or -1 in lengths:
                raise InvalidInputError("inputs must map each column to a list of equal length", field="inputs")
            return schema.from_columns({k: v for k, v in value.items() if k not in ignore}, lengths.pop())
        return schema.from_instances(value, ignore)
    raise InvalidInputError(
        "expected records ([{...}]), split ({columns, data}), {instances: [...]} or {inputs: ...}", field="body"
    )


def _arrow_table(body: bytes) -> Any:  # Any: a pyarrow Table
    import pyarrow as pa
    import pyarrow.ipc

    try:
        return pyarrow.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError):
        raise _MalformedError("the body is not an Arrow IPC stream", field="body") from None


def _arrow_key(table: Any, sticky: str | None) -> str | None:  # Any: a pyarrow Table
    if sticky is None or sticky not in table.column_names or table.num_rows == 0:
        return None
    return str(table.column(sticky)[0].as_py())


def _check_arrow_types(table: Any, names: Sequence[str], kinds: Sequence[str]) -> None:  # Any: a pyarrow Table
    import pyarrow as pa

    for name, kind in zip(names, kinds, strict=True):
        if name not in table.column_names:
            continue
        typ = table.schema.field(name).type
        ok = {
            "float": pa.types.is_floating(typ) or pa.types.is_integer(typ) or pa.types.is_boolean(typ),
            "int": pa.types.is_integer(typ),
            "bool": pa.types.is_boolean(typ),
        }.get(kind, pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ))
        if not ok:
            raise InvalidInputError(f"column {name} has Arrow type {typ}, which does not fit the model", field=name)


def _arrow_out(outputs: Outputs) -> bytes:
    import pyarrow as pa
    import pyarrow.ipc

    if isinstance(outputs, dict):
        table = pa.table(outputs)
    elif outputs.ndim == 1:
        table = pa.table({"prediction": outputs})
    else:
        flat = outputs.reshape(len(outputs), -1)
        table = pa.table({f"prediction_{j}": flat[:, j] for j in range(flat.shape[1])})
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _inputs(model: ServedModel, rows: Rows) -> dict[str, Any]:  # Any: numpy columns (the log's writer calls tolist)
    return {name: rows.column(i, name) for i, name in enumerate(model.schema.names)}


def _log_outputs(outputs: Outputs) -> Any:  # Any: one JSON-able value per row (the log's writer calls tolist)
    if isinstance(outputs, dict):
        return predictions_json(outputs)
    return outputs
