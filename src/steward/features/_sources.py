"""Reading a view's source: Parquet paths as they are, a dataset version through the data
stage, a SQL query through the metadata database's engine (team mode)."""

from __future__ import annotations

from collections.abc import Callable
import os
from datetime import datetime
from urllib.parse import urlsplit
from typing import Any

import pyarrow as pa

from steward.core.features import FeatureSource
from steward.errors import InvalidInputError, NotFoundError

from ._ports import ResolvedSource

__all__ = ["StewardSources", "s3_parquet_table"]


class StewardSources:
    """The :class:`~steward.features._ports.SourceResolver` of a Steward process.

    Args:
        dataset_table: a dataset version reference -> its data as a pyarrow Table.
        sql_table: a query -> its rows as a pyarrow Table (None: SQL sources refused here).
    """

    def __init__(
        self, dataset_table: Callable[[str], Any], sql_table: Callable[[str], Any] | None = None,  # Any: pyarrow Table
        *, s3_endpoint: str | None = None,
    ) -> None:
        self._dataset_table = dataset_table
        self._sql_table = sql_table
        self._s3_endpoint = s3_endpoint

    def resolve(self, source: FeatureSource) -> ResolvedSource:
        if source.kind == "parquet":
            if source.location.startswith("s3://"):
                return ResolvedSource(table=s3_parquet_table(source.location, self._s3_endpoint))
            return ResolvedSource(paths=source.location)
        if source.kind == "dataset":
            return ResolvedSource(table=self._dataset_table(source.location))
        if self._sql_table is None:
            raise InvalidInputError("SQL sources need the metadata database", field="source")
        return ResolvedSource(table=self._sql_table(source.location))


def sql_table(engine: Any, query: str) -> pa.Table:  # Any: a SQLAlchemy Engine
    """Run a read-only SELECT on ``engine`` and return its rows.

    Raises:
        InvalidInputError: the query is not a single SELECT (or WITH) statement.
    """
    from sqlalchemy import text

    stripped = query.strip().rstrip(";")
    if ";" in stripped or not stripped.lower().startswith(("select", "with")):
        raise InvalidInputError("a SQL source is one SELECT statement", field="source")
    with engine.connect() as conn:
        result = conn.execute(text(stripped))
        names = list(result.keys())
        rows = result.fetchall()
    return pa.table({n: _times_parsed([r[i] for r in rows]) for i, n in enumerate(names)})


def _times_parsed(values: list[Any]) -> list[Any]:  # Any: column values from the driver
    """SQLite hands timestamps back as ISO text: a column of such text becomes datetimes."""
    texts = [v for v in values if v is not None]
    if not texts or not all(isinstance(v, str) and len(v) >= 10 and v[4] == "-" for v in texts):
        return values
    try:
        return [None if v is None else datetime.fromisoformat(v) for v in values]
    except ValueError:
        return values


def s3_parquet_table(url: str, endpoint: str | None = None) -> pa.Table:
    """The rows of ``s3://bucket/key.parquet`` or of every ``*.parquet`` under
    ``s3://bucket/prefix/`` (files in name order, rows in file order: the tie rule's order),
    read through ``pyarrow.fs.S3FileSystem`` and handed to DuckDB as an Arrow table (DuckDB's
    own ``httpfs`` is an extension it would have to download). Credentials and region come
    from the usual AWS variables; the endpoint from ``STEWARD_S3_ENDPOINT_URL`` (the
    ``s3_endpoint_url`` setting), else ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``.

    Raises:
        NotFoundError: nothing readable at ``url`` (named).
    """
    import pyarrow.parquet as pq
    from pyarrow import fs

    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {}  # Any: S3FileSystem keyword values
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
        options.update(endpoint_override=parts.netloc, scheme=parts.scheme)
    if os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"):
        options["region"] = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    path = url.removeprefix("s3://").rstrip("/")
    try:
        s3 = fs.S3FileSystem(**options)
        info = s3.get_file_info(path)
        if info.type == fs.FileType.File:
            files = [path]
        elif info.type == fs.FileType.Directory:
            found = s3.get_file_info(fs.FileSelector(path, recursive=True))
            files = sorted(f.path for f in found if f.type == fs.FileType.File and f.path.endswith(".parquet"))
        else:
            files = []
        if not files:
            raise NotFoundError(f"no Parquet file or folder at {url[:200]}", field="source")
        tables = [pq.read_table(f, filesystem=s3) for f in files]
    except OSError as exc:
        raise NotFoundError(f"the source {url[:200]} cannot be read: {str(exc).splitlines()[0][:200]}", field="source") from exc
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
