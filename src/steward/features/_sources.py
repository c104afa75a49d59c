"""Reading a view's source: Parquet paths as they are, a dataset version through the data
stage, a SQL query through the metadata database's engine (team mode)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa

from steward.core.features import FeatureSource
from steward.errors import InvalidInputError

from ._ports import ResolvedSource

__all__ = ["StewardSources"]


class StewardSources:
    """The :class:`~steward.features._ports.SourceResolver` of a Steward process.

    Args:
        dataset_table: a dataset version reference -> its data as a pyarrow Table.
        sql_table: a query -> its rows as a pyarrow Table (None: SQL sources refused here).
    """

    def __init__(self, dataset_table: Callable[[str], Any], sql_table: Callable[[str], Any] | None = None) -> None:  # Any: pyarrow Table
        self._dataset_table = dataset_table
        self._sql_table = sql_table

    def resolve(self, source: FeatureSource) -> ResolvedSource:
        if source.kind == "parquet":
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
