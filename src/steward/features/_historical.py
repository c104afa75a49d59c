"""Running a point-in-time retrieval: in memory (``_pit``) when the case allows, else DuckDB
out of core (``_offline``); on a Dask cluster, one task per partition of the entity rows."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from steward._local_cluster import local_cluster
from steward.core.features import Feature, FeatureView
from steward.errors import InvalidInputError

from ._offline import _as_arrow, check_plan, duck, historical_query, read_entities
from ._pit import fast_historical
from ._ports import ResolvedSource

__all__ = ["ENGINES", "retrieve", "retrieve_dask"]

Plan = Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]]
ENGINES = ("auto", "duckdb", "memory")


def _quoted(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def retrieve(
    entities: Any, timestamp: str, plan: Plan, memory_limit: str, *, output: str | None = None, engine: str = "auto",  # Any: frame or path
) -> tuple[pa.Table | None, int]:
    """The point-in-time frame (None when written to ``output``) and its row count.

    ``engine``: ``auto`` (in memory when the case allows, see ``_pit``), ``duckdb``, or
    ``memory`` (refused when the case does not allow it: tests).

    Raises:
        InvalidInputError: bad input (see ``_offline.historical_query``), an unknown engine.
    """
    if engine not in ENGINES:
        raise InvalidInputError(f"engine is one of {', '.join(ENGINES)}", field="engine")
    with duck(memory_limit) as con:
        _name, columns = read_entities(con, entities)
        check_plan(con, columns, timestamp, plan)
        table = None if engine == "duckdb" else fast_historical(entities, timestamp, plan, memory_limit)
        if table is None and engine == "memory":
            raise InvalidInputError("this retrieval cannot run in memory", field="engine")
        if table is not None:
            if output is None:
                return table, table.num_rows
            _write(table, output)
            return None, table.num_rows
        query = historical_query(con, columns, timestamp, plan)
        if output is not None:
            con.execute(f"COPY ({query}) TO {_quoted(output)} (FORMAT PARQUET)")
            rows = con.execute(f"SELECT count(*) FROM read_parquet({_quoted(output)})").fetchone()
            return None, int(rows[0]) if rows else 0
        result = con.sql(query).to_arrow_table()
        return result, result.num_rows


def _write(table: pa.Table, output: str) -> None:
    """Parquet as DuckDB writes it (snappy), without dictionaries (measured values seldom
    repeat, and building one to give up on it cost more than the rest; on the entity
    columns it saved under 1% of the file for a third of the writing time) and with
    statistics (min / max, for readers' filters) on the non-float columns only."""
    import pyarrow.parquet as pq

    stats = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(table, output, compression="snappy", use_dictionary=False, write_statistics=stats)


def _partition_task(part: pa.Table, timestamp: str, plan: Plan, memory_limit: str, engine: str) -> pa.Table:
    table, _rows = retrieve(part, timestamp, plan, memory_limit, engine=engine)
    assert table is not None
    return table


def retrieve_dask(
    entities: Any, timestamp: str, plan: Plan, memory_limit: str, scheduler: str, *,  # Any: frame or path
    partitions: int | None = None, output: str | None = None, engine: str = "auto",
) -> tuple[pa.Table | None, int]:
    """:func:`retrieve` on a Dask cluster (``scheduler``: an address, or ``local`` for a
    LocalCluster of this machine): the entity rows cut into ``partitions`` consecutive
    slices, one task each, the results concatenated in order, so the frame equals the local
    one. Each task reads the sources itself (paths travel, not data; an in-memory source
    table is sent to each task).

    Raises:
        InvalidInputError: as :func:`retrieve`, checked here before any task is sent.
    """
    from distributed import Client

    if isinstance(entities, (str, os.PathLike)):
        import polars as pl

        from ._pit import _local_files

        files = _local_files(os.fspath(entities))
        if not files:
            raise InvalidInputError("with --dask the entity rows are a local Parquet file or folder, or a frame", field="entity_df")
        table = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed").to_arrow()
    else:
        table = _as_arrow(entities)
    with duck(memory_limit) as con:  # bad input is refused here, not in a worker
        _name, columns = read_entities(con, table.slice(0, 0))
        check_plan(con, columns, timestamp, plan)
    cluster = (
        local_cluster(2)
        if scheduler == "local" else None
    )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:  # type: ignore[no-untyped-call]
            count = partitions or max(1, 2 * len(client.scheduler_info().get("workers", {})))
            size = max(1, -(-table.num_rows // count))
            parts = [table.slice(start, size) for start in range(0, max(table.num_rows, 1), size)]
            futures = client.map(_partition_task, parts, timestamp=timestamp, plan=list(plan), memory_limit=memory_limit,
                                 engine=engine, pure=False)
            results = client.gather(futures)
    finally:
        if cluster is not None:
            cluster.close()
    frame = pa.concat_tables(results, promote_options="permissive") if results else table
    if output is None:
        return frame, frame.num_rows
    _write(frame, output)
    return None, frame.num_rows
