"""The point-in-time join in memory with numpy, for the common case: each view keyed by one
integer column, ties broken by source order (no ``created_time``), data that fits in the
memory limit. Everything else goes to DuckDB (:mod:`._offline`), whose result this one
equals value for value (tests/features/test_features_historical.py runs both).

Per view, one integer per source row, ``key * span + (event time - origin)``, sorted once
(among rows of the same key and instant the last in source order wins, as a stable sort
would order them: see ``_sorted_last_wins``); the entity rows' integers, sorted once for
all views, find their row as ``searchsorted`` side right would (a value stamped at the
row's instant counts), by merging the two sorted runs. A hit whose key differs (the
search fell into the previous key) or that is older than the TTL is a null. Sorting the
entity rows once instead of once per view, and one 64-bit integer instead of a (key, time)
pair, is what makes this faster than DuckDB's ASOF join here; views run on two threads.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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


def _ints(column: Any) -> np.ndarray:  # Any: pyarrow (Chunked)Array of a 64-bit fixed-width type
    """A 64-bit column's values as int64, read from its buffers, no copy for one chunk
    (``to_numpy`` and ``pa.array`` import pandas, half a second, on first use). A null's
    slot holds whatever the buffer holds: the caller masks it."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [
        np.frombuffer(c.buffers()[1], dtype=np.int64, count=len(c) + c.offset)[c.offset:]
        for c in chunks if len(c)
    ]
    if not parts:
        return np.empty(0, np.int64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _masked(values: np.ndarray, missing: np.ndarray, typ: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array of ``typ``, null where ``missing`` (the values not copied)."""
    nulls = int(np.count_nonzero(missing))
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(np.ascontiguousarray(values))], null_count=nulls)


def _valid(column: Any) -> np.ndarray:  # Any: pyarrow (Chunked)Array
    """Which slots hold a value (a column with nulls: the rare case)."""
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _int_keys(column: Any, fill: int) -> np.ndarray | None:  # Any: pyarrow (Chunked)Array
    """Integer join keys as int64 (a null as ``fill``), or None beyond int64 (DuckDB's case)."""
    if column.type != pa.int64():
        try:
            column = column.cast(pa.int64())
        except pa.ArrowInvalid:  # unsigned beyond int64
            return None
    if column.null_count:
        column = column.fill_null(fill)
    return _ints(column)


def _micros(column: Any) -> np.ndarray | None:  # Any: pyarrow (Chunked)Array of a time type
    """Event times as int64 microseconds since the epoch (UTC), truncated as DuckDB casts
    (a null's slot is arbitrary: masked by the caller)."""
    typ = column.type
    if pa.types.is_date(typ):
        column = column.cast(pa.timestamp("s"))
        typ = column.type
    if not pa.types.is_timestamp(typ):
        return None
    raw = _ints(column)
    factor = {"s": -1_000_000, "ms": -1000, "us": 1, "ns": 1000}[typ.unit]
    if factor < 0:
        return np.asarray(raw * -factor)
    return raw if factor == 1 else np.asarray(raw // factor)  # floor, as DuckDB truncates TIMESTAMP_NS


_THREADS = max(1, min(2, os.cpu_count() or 1))  # views in flight at once (each holds its source)


class _Entities:
    """The entity rows' times and integer keys, and their sorted composites, built once per
    (key, origin, TTL) and shared by the views (and threads) that need them."""

    def __init__(self, ets: np.ndarray, keys: dict[str, tuple[np.ndarray, int, int]]) -> None:
        self.ets = ets
        self.keys = keys
        self._sorted: dict[tuple[str, int, int | None], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def sorted(self, key: str, t_lo: int, width: int, ttl: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(order, composites in order, reach)``: the rows' order by (key, time); how far
        back (in microseconds) each row's value may lie: its offset in its key's range
        (further back is another key), at most the TTL. Equal composites get equal answers,
        so an unstable sort does."""
        with self._lock:
            hit = self._sorted.get((key, t_lo, ttl))
            if hit is None:
                ek, kmin, _kmax = self.keys[key]
                ecomp = ek - kmin
                ecomp *= width
                ecomp += self.ets
                ecomp -= t_lo
                order = np.argsort(ecomp)
                esorted = ecomp[order]
                reach = esorted % width
                if ttl is not None:
                    np.minimum(reach, ttl, out=reach)
                hit = self._sorted[(key, t_lo, ttl)] = (order, esorted, reach)
            return hit


def fast_historical(
    entities: Any, timestamp: str, plan: Sequence[tuple[FeatureView, Sequence[Feature], ResolvedSource]], memory_limit: str  # Any: frame, table or path
) -> pa.Table | None:
    """The point-in-time frame, or None when this case is DuckDB's (see the module).

    Views run on up to two threads (numpy's sort and search and the Parquet reads release
    the GIL), each holding one source at a time. The caller has checked the definitions
    against the sources (``_offline.check_plan``).
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
    keys: dict[str, tuple[np.ndarray, int, int]] = {}
    for view, _features, _source in plan:
        key = view.join_keys[0]
        if key not in keys:
            kcol = table.column(key)
            if not pa.types.is_integer(kcol.type) or kcol.null_count:
                return None
            ek = _int_keys(kcol, 0)
            if ek is None:
                return None
            keys[key] = (ek, int(ek.min()), int(ek.max()))
    shared = _Entities(ets, keys)
    give_up = threading.Event()

    def one(item: tuple[FeatureView, Sequence[Feature], ResolvedSource]) -> dict[str, Any] | None:  # Any: arrow arrays
        if give_up.is_set():
            return None
        got = _view_columns(*item, shared, budget)
        if got is None:
            give_up.set()
        return got

    if _THREADS > 1 and len(plan) > 1:
        with ThreadPoolExecutor(min(_THREADS, len(plan)), thread_name_prefix="steward-pit") as pool:
            results = list(pool.map(one, plan))
    else:
        results = [one(item) for item in plan]
    columns: dict[str, Any] = {name: table.column(name) for name in table.column_names}  # Any: arrow columns
    for got in results:
        if got is None:
            return None
        columns.update(got)
    return pa.table(columns)


def _sorted_last_wins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sorter, values[sorter])``, where the last of each run of equal values holds the
    run's largest index, as a stable sort puts it: a search ``side="right"`` only ever
    lands on a run's last position, so this is a stable sort for the join, from numpy's
    faster unstable one. (polars' multi-threaded stable sort was tried: faster alone,
    slower on a loaded machine.)"""
    sorter = np.argsort(values)
    ordered = values[sorter]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():
        starts = np.flatnonzero(np.concatenate(([True], ~tie)))
        ends = np.append(starts[1:] - 1, len(ordered) - 1)
        runs = ends > starts
        sorter[ends[runs]] = np.maximum.reduceat(sorter, starts)[runs]
    return sorter, ordered


def _count_at_or_below(ordered: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.searchsorted(ordered, needles, side="right")`` for sorted ``needles``: both
    merged by one stable sort of the two runs (timsort merges them in one pass), each
    needle after the equal values of ``ordered``; its position less the needles before it
    is the count."""
    merged = np.argsort(np.concatenate((ordered, needles)), kind="stable")
    at = np.flatnonzero(merged >= len(ordered))
    at -= np.arange(len(needles))
    return at


def _nulls(features: Sequence[Feature], n: int) -> dict[str, Any]:  # Any: arrow arrays
    return {f.name: pa.nulls(n, _ARROW[f.dtype]) for f in features}


def _view_columns(
    view: FeatureView, features: Sequence[Feature], source: ResolvedSource, entities: _Entities, budget: int,
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
    ets = entities.ets
    _ek, kmin, kmax = entities.keys[key]
    ttl = None if not view.ttl_s else int(view.ttl_s) * 1_000_000
    # the composite's time origin: the earliest entity instant less the TTL (older source
    # rows can never be chosen); without a TTL older rows are kept at the origin less one,
    # in time order (a second sort key), since the latest of them may still be chosen
    t_lo = int(ets.min()) - (ttl if ttl is not None else 1)
    t_hi = int(ets.max())
    width = t_hi - t_lo + 1
    if (kmax - kmin + 1) * width >= _LIMIT:
        return None
    skeys = _int_keys(kcol, kmin - 1)
    if skeys is None:
        return None
    # rows that can never be chosen (another key, after every entity row, older than any
    # TTL window, no event time) get -1: below every key's range, so never a hit
    nulls = src.column(event).null_count
    if len(skeys) and not nulls and int(skeys.min()) >= kmin and int(skeys.max()) <= kmax and int(sts.max()) <= t_hi \
            and int(sts.min()) >= t_lo:
        valid = np.ones(len(skeys), bool)  # every row may be chosen (four reductions instead of seven passes)
    else:
        valid = (skeys >= kmin) & (skeys <= kmax) & (sts <= t_hi)
        if nulls:
            valid &= _valid(src.column(event))
        if ttl is not None:
            valid &= sts >= t_lo
    if ttl is None and bool((valid & (sts < t_lo)).any()):
        scomp = np.where(valid, (skeys - kmin) * width + (np.maximum(sts, t_lo) - t_lo), -1)
        sorter = np.lexsort((sts, scomp))  # rows older than every entity row, in time order (stable)
        ssorted = scomp[sorter]
    else:
        scomp = skeys - kmin
        scomp *= width
        scomp += sts
        scomp -= t_lo
        if not valid.all():
            scomp[~valid] = -1
        sorter, ssorted = _sorted_last_wins(scomp)  # the last in source order wins a tie
    order, esorted, reach = entities.sorted(key, t_lo, width, ttl)
    n = len(esorted)
    if not len(sorter):
        return _nulls(features, n)
    pos = _count_at_or_below(ssorted, esorted) - 1
    at = np.maximum(pos, 0)
    # the row found is the entity's key iff it is no further back than the entity's offset
    # in its key's range (ssorted[at] <= esorted always); within the TTL iff no further than it
    hit = (pos >= 0) & (esorted - ssorted[at] <= reach)
    chosen = sorter[at]
    chosen[~hit] = -1
    take = np.empty(n, np.int64)
    take[order] = chosen
    missing = take < 0
    indices = None
    out: dict[str, Any] = {}  # Any: arrow arrays
    for f in features:
        column = src.column(f.name)
        typ = _ARROW[f.dtype]
        if column.type != typ:
            try:
                column = column.cast(typ)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        if f.dtype in ("float64", "int64") and column.null_count == 0:
            # numpy's gather and one validity mask: cheaper than Arrow's take with null indices
            values = _ints(column)
            picked = values[take] if len(values) else np.zeros(n, np.int64)
            out[f.name] = _masked(picked, missing, typ)
        else:
            if indices is None:
                indices = _masked(take, missing, pa.int64())
            out[f.name] = column.take(indices)
    return out
