"""Point-in-time joins and materialisation reads, executed by DuckDB out of core.

The rules are :mod:`steward.core.features`'s; this module only turns them into SQL (for a
retrieval, one ASOF join per view into a temporary table, then one query putting them side
by side). DuckDB streams Parquet and spills to a temporary directory past its
memory limit, so the entity frame and the sources may be larger than memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from steward.core.features import Feature, FeatureView
from steward.errors import InvalidInputError, NotFoundError

from ._ports import ResolvedSource

__all__ = ["check_plan", "check_source", "duck", "historical_query", "latest_rows", "read_entities"]

_INT = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"}
_FLOAT = {"FLOAT", "DOUBLE", "REAL"}
_FILE_SHIFT = 1 << 32  # rows per file below this
_TS_SHIFT = 1 << 48  # (file index, row) below this: 2**16 files
_SQL_TYPE = {"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def duck(memory_limit: str = "1GB", threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory DuckDB that spills to a temporary folder past ``memory_limit``."""
    with tempfile.TemporaryDirectory(prefix="steward-features-") as spill:
        con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
        try:
            con.execute("SET TimeZone='UTC'")
            if threads:
                con.execute(f"SET threads={int(threads)}")
            yield con
        finally:
            con.close()


def _parquet_glob(location: str) -> str:
    if "://" not in location and not any(c in location for c in "*?["):
        path = Path(location)
        if path.is_dir():
            return str(path / "**" / "*.parquet")
        if not path.exists():
            raise NotFoundError(f"no Parquet file or folder at {location[:200]}", field="source")
    return location


def _source_relation(con: duckdb.DuckDBPyConnection, alias: str, source: ResolvedSource) -> str:
    """A FROM item for the source, with ``__file`` and ``__row`` (file order, for ties)."""
    if source.table is not None:
        # the row number is added here: DuckDB's scan order of a registered table is not its order
        table = source.table.append_column("__row", pa.array(range(source.table.num_rows), pa.int64()))
        con.register(alias + "_arrow", table)
        return f"(SELECT *, '' AS __file, 0 AS __fidx FROM {alias}_arrow)"
    assert source.paths is not None
    glob = _parquet_glob(source.paths)
    return (
        f"(SELECT * EXCLUDE (filename, file_row_number), filename AS __file, file_row_number AS __row, "
        f"file_index AS __fidx FROM read_parquet({_literal(glob)}, filename=true, file_row_number=true, union_by_name=true))"
    )


def _files_in_name_order(con: duckdb.DuckDBPyConnection, source: ResolvedSource) -> bool:
    """Whether the source's ``__fidx`` (DuckDB's file index) follows the files' names, so
    ``(__fidx, __row)`` is the tie order of core/features.py; an in-memory table is one file."""
    if source.table is not None:
        return True
    assert source.paths is not None
    glob = _parquet_glob(source.paths)
    if "://" in glob:
        return False
    files = [str(row[0]) for row in con.execute(f"SELECT file FROM glob({_literal(glob)})").fetchall()]
    return files == sorted(files) and len(files) < 1 << 16


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.IOException as exc:
        raise NotFoundError(f"the source cannot be read: {str(exc).splitlines()[0][:200]}", field="source") from exc
    except duckdb.Error as exc:
        raise InvalidInputError(f"the source cannot be read: {str(exc).splitlines()[0][:200]}", field="source") from exc
    return {str(row[0]): str(row[1]).upper() for row in described}


def _family(sql_type: str) -> str:
    base = sql_type.split("(")[0]
    if base in _INT:
        return "int"
    if base in _FLOAT or base.startswith("DECIMAL"):
        return "float"
    if base in ("VARCHAR", "STRING", "TEXT"):
        return "string"
    if base == "BOOLEAN":
        return "bool"
    if base.startswith("TIMESTAMP") or base == "DATE":
        return "time"
    return base.lower()


def _accepts(dtype: str, family: str) -> bool:
    if dtype == "float64":
        return family in ("float", "int")
    return {"int64": "int", "string": "string", "bool": "bool"}[dtype] == family


def check_source(view: FeatureView, columns: dict[str, str], features: Sequence[Feature]) -> None:
    """The source holds the view's keys, event time and features with the declared types.

    Raises:
        InvalidInputError: naming the view and the column.
    """
    event = view.source.event_time
    if event not in columns:
        raise InvalidInputError(f"the source of view {view.name} has no event-time column {event}", field="event_time")
    if _family(columns[event]) != "time":
        raise InvalidInputError(
            f"the event-time column {event} of view {view.name} is {columns[event]}, not a timestamp", field="event_time"
        )
    created = view.source.created_time
    if created is not None and created not in columns:
        raise InvalidInputError(f"the source of view {view.name} has no created-time column {created}", field="created_time")
    for key in view.join_keys:
        if key not in columns:
            raise InvalidInputError(f"the source of view {view.name} has no join key {key}", field="join_keys")
    for feature in features:
        if feature.name not in columns:
            raise InvalidInputError(f"the source of view {view.name} has no column {feature.name}", field="features")
        if not _accepts(feature.dtype, _family(columns[feature.name])):
            raise InvalidInputError(
                f"feature {view.name}:{feature.name} is declared {feature.dtype} but its source column is {columns[feature.name]}",
                field="features",
            )


def _deduplicated(view: FeatureView, relation: str, features: Sequence[Feature], where: str = "") -> str:
    """One row per (keys, event time): the tie rule of core/features.py."""
    keys = ", ".join(_quote(k) for k in view.join_keys)
    event = _quote(view.source.event_time)
    casts = {f.name: f"CAST({_quote(f.name)} AS {_SQL_TYPE[f.dtype]})" for f in features}
    if view.source.created_time is None:
        # without a created time the last row in (file, row) order wins: one hash aggregate
        # with arg_max, much cheaper than a window over the whole source
        packed = ", ".join(f"{_quote(n)} := {c}" for n, c in casts.items())
        unpacked = ", ".join(f"__v.{_quote(n)} AS {_quote(n)}" for n in casts)
        return (
            f"SELECT {keys}, __ts, {unpacked} FROM ("
            f"SELECT {keys}, CAST({event} AS TIMESTAMP) AS __ts, "
            f"arg_max(struct_pack({packed}), struct_pack(f := __file, r := __row)) AS __v "
            f"FROM {relation} {where} GROUP BY ALL)"
        )
    order = [f"{_quote(view.source.created_time)} DESC NULLS LAST", "__file DESC", "__row DESC"]
    values = ", ".join(f"{c} AS {_quote(n)}" for n, c in casts.items())
    return (
        f"SELECT {keys}, CAST({event} AS TIMESTAMP) AS __ts, {values} FROM {relation} {where} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys}, {event} ORDER BY {', '.join(order)}) = 1"
    )


def read_entities(con: duckdb.DuckDBPyConnection, entities: Any) -> tuple[str, dict[str, str]]:  # Any: frame, table or path
    """Register the entity frame as ``__entities`` with its row number ``__erow``; return its columns."""
    if isinstance(entities, (str, os.PathLike)):
        glob = _parquet_glob(os.fspath(entities))
        # one local file: its row number is the entity row (no window over every row)
        one = "://" not in glob and len(con.execute(f"SELECT file FROM glob({_literal(glob)})").fetchall()) == 1
        erow = "file_row_number" if one else "row_number() OVER (ORDER BY filename, file_row_number) - 1"
        con.execute(
            f"CREATE TEMP VIEW __entities AS SELECT * EXCLUDE (filename, file_row_number), {erow} AS __erow "
            f"FROM read_parquet({_literal(glob)}, filename=true, file_row_number=true)"
        )
    else:
        table = _as_arrow(entities)
        table = table.append_column("__erow", pa.array(range(table.num_rows), pa.int64()))
        con.register("__entities_arrow", table)
        con.execute("CREATE TEMP VIEW __entities AS SELECT * FROM __entities_arrow")
    columns = _columns(con, "__entities")
    columns.pop("__erow", None)
    return "__entities", columns


def _as_arrow(data: Any) -> pa.Table:  # Any: pandas / polars DataFrame or pyarrow Table
    if isinstance(data, pa.Table):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return data.to_arrow()
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    raise InvalidInputError(
        "entity rows must be a pandas or polars DataFrame, a pyarrow Table or a Parquet path", field="entity_df"
    )


def check_plan(
    con: duckdb.DuckDBPyConnection,
    entity_columns: dict[str, str],
    timestamp: str,
    plan: Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]],
) -> None:
    """The checks of :func:`historical_query` without running anything (each source's
    schema is read, not its rows): the in-memory path (``_pit``) runs after them.

    Raises:
        InvalidInputError: as :func:`historical_query`.
    """
    _checked_relations(con, entity_columns, timestamp, plan, "__chk")


def _checked_relations(
    con: duckdb.DuckDBPyConnection,
    entity_columns: dict[str, str],
    timestamp: str,
    plan: Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]],
    prefix: str,
) -> list[str]:
    """Each view's source as a FROM item (``<prefix><i>``), once the entity rows and the
    sources are checked against the plan: the timestamp, the join keys and their types, each
    source against its view, no feature named like an entity column."""
    if timestamp not in entity_columns:
        raise InvalidInputError(f"the entity rows have no timestamp column {timestamp}", field="timestamp")
    if _family(entity_columns[timestamp]) != "time":
        raise InvalidInputError(f"the entity timestamp column {timestamp} is {entity_columns[timestamp]}, not a timestamp", field="timestamp")
    relations = []
    for i, (view, features, source) in enumerate(plan):
        for key in view.join_keys:
            if key not in entity_columns:
                raise InvalidInputError(f"the entity rows have no join key {key} (view {view.name})", field=key)
        relation = _source_relation(con, f"{prefix}{i}", source)
        columns = _columns(con, relation)
        check_source(view, columns, features)
        for key in view.join_keys:
            if _family(columns[key]) != _family(entity_columns[key]):
                raise InvalidInputError(
                    f"join key {key} is {entity_columns[key]} in the entity rows but {columns[key]} in view {view.name}",
                    field=key,
                )
        relations.append(relation)
    clash = [f.name for _v, fs, _s in plan for f in fs if f.name in entity_columns]
    if clash:
        raise InvalidInputError(f"the entity rows already have columns named like features: {', '.join(clash)}", field="features")
    return relations


def historical_query(
    con: duckdb.DuckDBPyConnection,
    entity_columns: dict[str, str],
    timestamp: str,
    plan: Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]],
) -> str:
    """The point-in-time query: every entity row in order, each view's latest values at or
    before the row's timestamp and within its TTL (ASOF LEFT JOIN on deduplicated sources).
    Each view's join runs here, into a temporary table in entity-row order; the query
    returned puts them side by side.

    Raises:
        InvalidInputError: the entity frame lacks a join key or the timestamp, a key's type
            differs from the source's, or a source does not match its view.
    """
    relations = _checked_relations(con, entity_columns, timestamp, plan, "__src")
    selects = ["__e.* EXCLUDE (__erow, __ets)"]
    steps: list[str] = []
    for i, ((view, features, source), relation) in enumerate(zip(plan, relations, strict=True)):
        if view.source.created_time is None and _files_in_name_order(con, source):
            # no deduplication pass: the ASOF join's one inequality runs on (event time, file,
            # row) packed into one HUGEINT, so among rows with the same keys and event time
            # the last one in the source wins, as the tie rule says; the entity side takes
            # the greatest (file, row) of its instant (same instant counts)
            keys = ", ".join(_quote(k) for k in view.join_keys)
            casts = ", ".join(f"CAST({_quote(f.name)} AS {_SQL_TYPE[f.dtype]}) AS {_quote(f.name)}" for f in features)
            ts = f"CAST({_quote(view.source.event_time)} AS TIMESTAMP)"
            deduplicated = (
                f"SELECT {keys}, {ts} AS __ts, {casts}, "
                f"epoch_us({ts})::HUGEINT * {_TS_SHIFT} + __fidx::HUGEINT * {_FILE_SHIFT} + __row AS __at FROM {relation}"
            )
            asof = f"epoch_us(k.__ets)::HUGEINT * {_TS_SHIFT} + {_TS_SHIFT - 1} >= s.__at"
        else:
            deduplicated = _deduplicated(view, relation, features)
            asof = "k.__ets >= s.__ts"
        # each view is joined on its own to the narrow (row, keys, time) frame into a table
        # in row order; the tables are then put side by side by position: chained ASOF joins
        # would carry (and sort) every earlier view's columns again at each step, and a
        # join back on the row number costs a hash join of every row per view
        on = " AND ".join(f"k.{_quote(k)} = s.{_quote(k)}" for k in view.join_keys)
        fresh = f"s.__ts >= k.__ets - INTERVAL {int(view.ttl_s)} SECOND" if view.ttl_s else "s.__ts IS NOT NULL"
        values = ", ".join(f"CASE WHEN {fresh} THEN s.{_quote(f.name)} END AS {_quote(f.name)}" for f in features)
        narrow = ", ".join(["__erow", "__ets", *(_quote(k) for k in view.join_keys)])
        steps.append(
            f"CREATE OR REPLACE TEMP TABLE __j{i} AS SELECT {values} FROM (SELECT {narrow} FROM __e) k "
            f"ASOF LEFT JOIN ({deduplicated}) s ON {on} AND {asof} ORDER BY k.__erow"
        )
        selects += [f"__j{i}.{_quote(f.name)}" for f in features]
    # tables keep their insertion order (preserve_insertion_order, DuckDB's default), so each
    # table's n-th row is entity row n
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __e AS SELECT *, CAST({_quote(timestamp)} AS TIMESTAMP) AS __ets "
        "FROM __entities ORDER BY __erow"
    )
    for step in steps:
        con.execute(step)
    return f"SELECT {', '.join(selects)} FROM __e {' '.join(f'POSITIONAL JOIN __j{i}' for i in range(len(steps)))}"


def latest_rows(
    con: duckdb.DuckDBPyConnection, view: FeatureView, source: ResolvedSource, start_ms: int | None, end_ms: int
) -> duckdb.DuckDBPyRelation:
    """Per entity key, the latest row with ``start <= event time < end`` (ties as documented),
    as ``(__key, __event_ms, __payload)``: the online store's key (the join-key values as
    compact JSON, as :func:`steward.features.entity_key` writes it), event time in ms and the
    feature values as one JSON object (NaN as null). Encoding here keeps Python out of the
    per-row work. In key order: the online store writes each of its pages once per batch."""
    relation = _source_relation(con, "__mat", source)
    columns = _columns(con, relation)
    check_source(view, columns, view.features)
    event = _quote(view.source.event_time)
    bounds = [f"CAST({event} AS TIMESTAMP) < make_timestamp({int(end_ms) * 1000})"]
    if start_ms is not None:
        bounds.append(f"CAST({event} AS TIMESTAMP) >= make_timestamp({int(start_ms) * 1000})")
    deduped = _deduplicated(view, relation, view.features, "WHERE " + " AND ".join(bounds))
    keys = ", ".join(_quote(k) for k in view.join_keys)
    values = ", ".join(
        f"{_literal(f.name)}: " + (f"CASE WHEN isnan({_quote(f.name)}) THEN NULL ELSE {_quote(f.name)} END" if f.dtype == "float64" else _quote(f.name))
        for f in view.features
    )
    return con.sql(
        f"SELECT CAST(to_json([{keys}]) AS VARCHAR) AS __key, epoch_ms(__ts) AS __event_ms, "
        f"CAST(to_json({{{values}}}) AS VARCHAR) AS __payload FROM ({deduped}) "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY __ts DESC) = 1 ORDER BY __key"
    )
