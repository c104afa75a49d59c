"""What the inference server hands to the prediction log: one batch per answered request.

Columnar on purpose: a 100-row request is one record with columns, not 100 objects, so
logging stays off the request path's cost. No I/O here; the log lives in
``steward.predictions``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["PredictionBatch", "PredictionSink"]


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """The rows of one request as one variant answered them.

    Attributes:
        request_id: the id returned to the caller (``x-request-id``); rows are ``(request_id, row)``.
        deployment: the deployment name, or the model name when a bare model is served.
        model_name: registered model name.
        model_version: registered model version.
        variant: ``primary``, ``candidate``, ``shadow``...
        inputs: input columns (name -> one value per row); ``None`` when inputs are not logged.
        outputs: one prediction per row (JSON-able scalars or lists).
        latency_ms: the server-side latency of the request.
        timestamp_ms: when the request arrived (UTC epoch milliseconds).
        shadow: the answer of a mirrored request, never returned to the caller.
        cpu_ms: CPU milliseconds the model call for these rows took (the batch's, shared by
            rows); None when not measured.
    """

    request_id: str
    deployment: str
    model_name: str
    model_version: int
    variant: str
    inputs: Mapping[str, Sequence[object]] | None
    outputs: Sequence[object]
    latency_ms: float
    timestamp_ms: int
    shadow: bool = False
    cpu_ms: float | None = None


class PredictionSink(Protocol):
    """Where the server appends predictions: never blocks, never raises into a request."""

    def append(self, batch: PredictionBatch) -> None: ...

    def close(self) -> None:
        """Flush what is buffered and stop (a graceful server stop calls it)."""
        ...
