"""The point-in-time join in memory with numpy, for the common case: each view keyed by one
integer column, ties broken by source order (no ``created_time``), data that fits in the
memory limit. Everything else goes to DuckDB (:mod:`._offline`), whose result this one
equals value for value (tests/features/test_features_historical.py runs both).

Per view, one integer per source row, ``key * span + (event time - origin)``, sorted once
(stable, so among rows of the same key and instant the last in source order is last);
the entity rows' integers, sorted once for all views, find their row by one binary search
each (``searchsorted``, side right: a value stamped at the row's instant counts). A hit
whose key differs (the search fell into the previous key) or that is older than the TTL
is a null. Sorting the entity rows once instead of once per view, and one 64-bit integer
instead of a (key, time) pair, is what makes this faster than DuckDB's ASOF join here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from steward.core.features import Feature, FeatureView

from ._ports import ResolvedSource

__all__ = ["fast_historical", "memory_bytes"]

_ARROW = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "bool": pa.bool_()}
_LIMIT = 1 << 62  # composite integers stay below this


def memory_bytes(limit: str) -> int:
    """``"1GB"``, ``"512MB"``, ``"2GiB"`` as bytes (DuckDB's memory-limit spelling)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?B)?\s*", limit, re.IGNORECASE)
    if not match:
        return 1 << 30
    unit = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[match.group(2).upper()]
    return int(float(match.group(1)) * unit)


def _local_files(location: str) -> list[str] | None:
    """A local Parquet file, or a folder's ``*.parquet`` files (recursive) in name order."""
    if "://" in location or any(c in location for c in "*?["):
        return None
    path = Path(location)
    if path.is_file():
        return [str(path)]
    if path.is_dir():
        return sorted(str(p) for p in path.rglob("*.parquet"))
    return None


def _read(files: Sequence[str], columns: Sequence[str] | None) -> pa.Table | None:
    try:
        import polars as pl  # reads Parquet faster than pyarrow here (one thread pool, no pre-buffering)
    except ImportError:  # the ml extra's: without it, DuckDB runs the retrieval
        return None
    try:
        frames = [pl.read_parquet(f, columns=list(columns) if columns else None) for f in files]
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    except Exception:  # noqa: BLE001 - any reading problem: DuckDB reads it and reports it
        return None
    return frame.to_arrow()


def _micros(column: Any) -> np.ndarray | None:  # Any: pyarrow (Chunked)Array of a time type
    """Event times as int64 microseconds since the epoch (UTC), truncated as DuckDB casts."""
    typ = column.type
    if pa.types.is_date(typ):
        column = column.cast(pa.timestamp("s"))
        typ = column.type
    if not pa.types.is_timestamp(typ):
        return None
    ints = column.cast(pa.int64())
    if ints.null_count:
        ints = ints.fill_null(0)  # masked by the caller
    raw: np.ndarray = np.asarray(ints.to_numpy(zero_copy_only=False))
    factor = {"s": -1_000_000, "ms": -1000, "us": 1, "ns": 1000}[typ.unit]
    if factor < 0:
        return np.asarray(raw * -factor)
    return raw if factor == 1 else np.asarray(raw // factor)  # floor, as DuckDB truncates TIMESTAMP_NS


def fast_historical(
    entities: Any, timestamp: str, plan: Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]], memory_limit: str  # Any: frame, table or path
) -> pa.Table | None:
    """The point-in-time frame, or None when this case is DuckDB's (see the module).

    The caller has checked the definitions against the sources (``_offline.check_plan``).
    """
    if not plan or any(v.source.created_time is not None or len(v.join_keys) != 1 for v, _f, _s in plan):
        return None
    budget = memory_bytes(memory_limit)
    if isinstance(entities, (str, os.PathLike)):
        files = _local_files(os.fspath(entities))
        if not files or sum(os.path.getsize(f) for f in files) * 4 > budget:
            return None
        table = _read(files, None)
        if table is None:
            return None
    else:
        from ._offline import _as_arrow

        table = _as_arrow(entities)
    n = table.num_rows
    width = sum(len(f) for _v, f, _s in plan)
    if n * (8 * width + 64) + table.nbytes > budget // 2:
        return None
    if table.column(timestamp).null_count:
        return None
    ets = _micros(table.column(timestamp))
    if ets is None or n == 0:
        return None
    columns: dict[str, Any] = {name: table.column(name) for name in table.column_names}  # Any: arrow columns
    sorted_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]] = {}
    for view, features, source in plan:
        key = view.join_keys[0]
        if key not in sorted_cache:
            kcol = table.column(key)
            if not pa.types.is_integer(kcol.type) or kcol.null_count:
                return None
            try:
                ek = kcol.cast(pa.int64()).to_numpy(zero_copy_only=False)
            except pa.ArrowInvalid:  # unsigned beyond int64: DuckDB's
                return None
            kmin, kmax = int(ek.min()), int(ek.max())
            sorted_cache[key] = (ek, np.empty(0, np.int64), np.empty(0, np.int64), kmin, kmax, 0)
        got = _view_columns(view, features, source, sorted_cache, ets, budget)
        if got is None:
            return None
        columns.update(got)
    return pa.table(columns)


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """Indices sorting ``values``, equal values kept in their order. (polars' multi-threaded
    stable sort was tried: faster alone, slower on a loaded machine, where numpy's one
    thread loses less.)"""
    return np.argsort(values, kind="stable")


def _nulls(features: Sequence[Feature], n: int) -> dict[str, Any]:  # Any: arrow arrays
    return {f.name: pa.nulls(n, _ARROW[f.dtype]) for f in features}


def _view_columns(
    view: FeatureView, features: Sequence[Feature], source: ResolvedSource,
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]], ets: np.ndarray, budget: int,
) -> dict[str, Any] | None:  # Any: arrow arrays
    key, event = view.join_keys[0], view.source.event_time
    wanted = [key, event, *(f.name for f in features)]
    if source.table is not None:
        src = source.table.select(wanted)
    else:
        assert source.paths is not None
        files = _local_files(source.paths)
        if not files or sum(os.path.getsize(f) for f in files) * 3 > budget:
            return None
        src = _read(files, wanted)
        if src is None:
            return None
    kcol = src.column(key)
    if not pa.types.is_integer(kcol.type):
        return None
    sts = _micros(src.column(event))
    if sts is None:
        return None
    ek, order, esorted, kmin, kmax, span = cache[key]
    ttl = None if not view.ttl_s else int(view.ttl_s) * 1_000_000
    # the composite's time origin: the earliest entity instant less the TTL (older source
    # rows can never be chosen); without a TTL older rows are kept at the origin less one,
    # in time order (a second sort key), since the latest of them may still be chosen
    t_lo = int(ets.min()) - (ttl if ttl is not None else 1)
    t_hi = int(ets.max())
    width = t_hi - t_lo + 1
    if (kmax - kmin + 1) * width >= _LIMIT:
        return None
    if span != width:  # the entity rows sorted once per (key, origin): once for all views of one TTL
        ecomp = (ek - kmin) * width + (ets - t_lo)
        order = _stable_argsort(ecomp)
        esorted = ecomp[order]
        cache[key] = (ek, order, esorted, kmin, kmax, width)
    try:
        sk = kcol.cast(pa.int64())
    except pa.ArrowInvalid:  # unsigned beyond int64: DuckDB's
        return None
    if sk.null_count:
        sk = sk.fill_null(kmin - 1)
    skeys: np.ndarray = np.asarray(sk.to_numpy(zero_copy_only=False))
    # rows that can never be chosen (another key, after every entity row, older than any
    # TTL window, no event time) get -1: below every key's range, so never a hit
    valid = (skeys >= kmin) & (skeys <= kmax) & (sts <= t_hi)
    if src.column(event).null_count:
        valid &= np.asarray(src.column(event).is_valid().to_numpy(zero_copy_only=False))
    if ttl is not None:
        valid &= sts >= t_lo
    scomp = np.where(valid, (skeys - kmin) * width + (np.maximum(sts, t_lo) - t_lo), -1)
    if ttl is None and bool((valid & (sts < t_lo)).any()):
        sorter = np.lexsort((sts, scomp))  # rows older than every entity row, in time order (stable)
    else:
        sorter = _stable_argsort(scomp)  # stable: source order breaks ties
    if not len(sorter):
        return _nulls(features, len(esorted))
    ssorted = scomp[sorter]
    pos = np.searchsorted(ssorted, esorted, side="right") - 1
    at = np.maximum(pos, 0)
    # the row found is the entity's key iff it is no further back than the entity's offset
    # in its key's range (ssorted[at] <= esorted always); within the TTL iff no further than it
    reach = esorted - (esorted // width) * width
    if ttl is not None:
        reach = np.minimum(reach, ttl)
    hit = (pos >= 0) & (esorted - ssorted[at] <= reach)
    take = np.empty(len(esorted), np.int64)
    take[order] = sorter[at]
    found = np.empty(len(esorted), bool)
    found[order] = hit
    missing = ~found
    indices = None
    out: dict[str, Any] = {}  # Any: arrow arrays
    for f in features:
        column = src.column(f.name)
        try:
            column = column.cast(_ARROW[f.dtype])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if f.dtype in ("float64", "int64") and column.null_count == 0:
            # numpy's gather and one validity mask: cheaper than Arrow's take with null indices
            values = np.asarray(column.to_numpy(zero_copy_only=False))
            out[f.name] = pa.array(values[take] if len(values) else np.zeros(len(take), values.dtype), mask=missing)
        else:
            if indices is None:
                indices = pa.array(take, mask=missing)
            out[f.name] = column.take(indices)
    return out
