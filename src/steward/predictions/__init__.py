"""The prediction log: what every served model answered, in Parquet segments, with delayed labels.

::

    import steward.predictions

    df = steward.predictions.read("fraud-api", "2024-05-01", "2024-05-02")   # labels joined
    steward.predictions.ingest_labels("labels.csv", deployment="fraud-api")  # ground truth, later

The inference server appends to :class:`PredictionLog` (``Services.prediction_log()``) off
the request path. Both functions work on the embedded store or a Steward server, chosen by
:class:`~steward.settings.Settings` (``STEWARD_TRACKING_URI``) as the tracking client is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyarrow as pa

from steward.settings import Settings

from ._labels import LabelReport
from ._labels import read_label_file as _read_label_file
from ._log import LogOptions, LogStats, PredictionLog
from ._ports import LabelRow, PredictionIndex, SegmentFiles, SegmentInfo
from ._service import PredictionService, TimeLike
from ._service import to_epoch_ms as _to_epoch_ms

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LabelReport",
    "LabelRow",
    "LogOptions",
    "LogStats",
    "PredictionIndex",
    "PredictionLog",
    "PredictionService",
    "SegmentFiles",
    "SegmentInfo",
    "ingest_labels",
    "read",
]

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def _remote(settings: Settings) -> Any:  # Any: steward.sdk.HttpBackend (imported lazily: the SDK imports stages)
    from steward.sdk import HttpBackend

    token = settings.token.get_secret_value() if settings.token else None
    return HttpBackend(str(settings.tracking_uri), token=token, timeout=settings.http_timeout)


def read(
    deployment: str,
    start: TimeLike = None,
    end: TimeLike = None,
    *,
    as_pandas: bool = True,
    settings: Settings | None = None,
) -> pd.DataFrame | pa.Table:
    """The predictions of ``deployment`` logged in ``[start, end)``, with their labels joined.

    Args:
        deployment: the deployment (or bare model) name.
        start: first time included: a datetime (naive = UTC), ISO-8601 string or epoch ms; None: the beginning.
        end: first time excluded; None: now and after.
        as_pandas: a pandas DataFrame (default) or a pyarrow Table.
        settings: configuration (default: from ``STEWARD_*``).

    Returns:
        One row per predicted row: ``request_id``, ``row``, ``timestamp``, ``deployment``,
        ``model_name``, ``model_version``, ``variant``, ``shadow``, ``latency_ms``,
        ``input.<feature>``..., ``output``, ``label``, ``labeled_at``.

    Raises:
        InvalidInputError: a bad name or time.
        StorageError: a store or the server is unreachable.

    Example:
        >>> df = steward.predictions.read("fraud-api", "2024-05-01", "2024-05-02")  # doctest: +SKIP
        >>> (df["output"] == df["label"]).mean()  # doctest: +SKIP
    """
    cfg = settings or Settings()
    if cfg.is_remote():
        params = {k: str(_to_epoch_ms(v, field=k)) for k, v in (("start", start), ("end", end)) if v is not None}
        http = _remote(cfg)
        try:
            data = http._call(  # the backend's one request path: errors map to the same classes
                "GET", f"/deployments/{quote(deployment, safe='')}/predictions", params={**params, "format": "arrow"}
            )
        finally:
            http.close()
        table = pa.ipc.open_stream(data).read_all()
    else:
        from steward.wiring import build_services

        services = build_services(cfg)
        try:
            table = services.predictions().read(deployment, start, end)
        finally:
            services.close()
    return table.to_pandas() if as_pandas else table


def ingest_labels(
    file: str | Path,
    *,
    deployment: str,
    key: str = "request_id",
    label_column: str = "label",
    settings: Settings | None = None,
) -> LabelReport:
    """Attach the ground truth in a CSV or Parquet file to logged predictions (audited).

    Args:
        file: columns ``key`` (the request id), ``label_column`` and optionally ``row``.
        deployment: whose predictions are labelled.
        key: the column holding the request id.
        label_column: the column holding the label.
        settings: configuration (default: from ``STEWARD_*``).

    Returns:
        How many labels were attached, unknown (request not in the log) or missing.

    Raises:
        InvalidInputError: an unreadable file or a missing column (named).
        NotFoundError: no such file, or no predictions logged for the deployment.

    Example:
        >>> steward.predictions.ingest_labels("labels.csv", deployment="fraud-api").attached  # doctest: +SKIP
        980
    """
    cfg = settings or Settings()
    table = _read_label_file(file, key=key)
    if cfg.is_remote():
        sink = pa.BufferOutputStream()
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
        http = _remote(cfg)
        try:
            data = http._call(
                "POST", f"/deployments/{quote(deployment, safe='')}/labels",
                params={"format": "parquet", "key": key, "label_column": label_column, "source": Path(file).name},
                content=sink.getvalue().to_pybytes(),
            )
        finally:
            http.close()
        return LabelReport(
            data["deployment"], data["rows"], data["attached"], data["unknown"], data["missing"], tuple(data["unknown_examples"])
        )
    from steward.wiring import build_services

    services = build_services(cfg)
    try:
        return services.predictions().ingest_labels(deployment, table, key=key, label_column=label_column, source=Path(file).name)
    finally:
        services.close()
