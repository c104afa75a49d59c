"""The feature service: apply definitions, retrieve history, materialise, look up online.

Every face (SDK ``steward.features``, CLI ``steward features``, REST ``/api/v1/features``)
calls one function of :class:`FeatureService`.
"""

from __future__ import annotations

import json
import math
import operator
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from steward.core.features import (
    Feature,
    FeatureChange,
    FeatureRef,
    FeatureView,
    breaking_uses,
    diff_views,
    parse_feature_refs,
    resolve_refs,
)
from steward.core.permissions import new_project
from steward.errors import ConflictError, InvalidInputError, NotFoundError
from steward.tracking._ports import AuditEvent

from ._historical import retrieve, retrieve_dask
from ._offline import duck, latest_rows
from ._ports import (
    DatasetRegistrar,
    FeatureRegistry,
    OnlineStore,
    SourceResolver,
    StoredView,
)

__all__ = ["ApplyResult", "FeatureService", "HistoricalResult", "MaterializeResult", "OnlineResult", "ViewCache", "entity_key"]

MAX_ONLINE_ROWS = 10_000
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)
_MAT_BATCH = 50_000


def entity_key(values: Sequence[Any]) -> str:  # Any: join-key values (int, str, bool)
    """The online store's key of one entity: its join-key values as compact JSON, in key order."""
    if len(values) == 1 and type(values[0]) is int:
        return f"[{values[0]}]"  # the common case, without the encoder
    # the same text DuckDB's to_json writes at materialisation (compact, UTF-8 kept)
    return json.dumps(
        [int(v) if isinstance(v, float) and v.is_integer() else v for v in values], separators=(",", ":"), ensure_ascii=False
    )


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``apply`` changed: the differences, the stored versions, the views left as they were."""

    changes: list[FeatureChange]
    applied: list[StoredView]
    unchanged: list[str]
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {
            "changes": [c.to_dict() for c in self.changes],
            "applied": [{"name": s.view.name, "version": s.version, "project": s.project} for s in self.applied],
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True, slots=True)
class HistoricalResult:
    """A point-in-time frame: in memory (``table``, a pyarrow Table) or written to ``path``.

    ``views`` are the ``(view, version)`` pairs it was built from (its lineage).
    """

    table: Any  # Any: pyarrow Table, None when written to a path
    path: str | None
    views: list[tuple[str, int]]
    num_rows: int

    def to_pandas(self) -> Any:  # Any: pandas DataFrame
        """The frame as pandas (read from ``path`` when it was written there)."""
        if self.table is not None:
            return self.table.to_pandas()
        import pyarrow.parquet as pq

        return pq.read_table(self.path).to_pandas()


@dataclass(frozen=True, slots=True)
class MaterializeResult:
    """One view's materialisation: the interval, rows written (changed) and the newest event time."""

    view: str
    start: int | None
    end: int
    entities: int
    written: int
    newest_value_at: int | None

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {
            "view": self.view, "start": self.start, "end": self.end, "entities": self.entities,
            "written": self.written, "newest_value_at": self.newest_value_at,
        }


@dataclass(frozen=True, slots=True)
class OnlineResult:
    """Online values, one entry per entity row asked, in order.

    Each row has ``entity`` (the keys asked), ``values`` (feature name -> value or None),
    ``event_times`` and ``status`` per view (``present``, ``missing`` or ``expired``: older
    than the view's TTL) and ``missing`` (True when any view had no fresh value).
    """

    features: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)  # Any: JSON

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {"features": self.features, "rows": self.rows}


class ViewCache:
    """Recently read view definitions of one process, for online lookups (``ttl_s`` seconds).

    A lookup then costs no metadata query; an apply in this process clears it, one in another
    process is seen within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, StoredView]] = {}
        self._plans: dict[object, tuple[float, Any]] = {}  # Any: a lookup's resolved plan

    def plan(self, key: object, build: Callable[[], Any]) -> Any:  # Any: what build returns
        """``build()`` for ``key`` (a lookup's feature list), kept as long as a view: a
        serving process asks the same features on every request."""
        now = self._clock()
        hit = self._plans.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        built = build()
        with self._lock:
            if len(self._plans) > 1000:
                self._plans.clear()
            self._plans[key] = (now, built)
        return built

    def get(self, name: str, load: Callable[[str], StoredView]) -> StoredView:
        now = self._clock()
        with self._lock:
            hit = self._entries.get(name)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        stored = load(name)
        with self._lock:
            self._entries[name] = (now, stored)
        return stored

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._plans.clear()


class FeatureService:
    """Feature definitions, history, materialisation and online lookup, acting as ``actor``."""

    def __init__(
        self,
        registry: FeatureRegistry,
        online: Callable[[], OnlineStore],
        sources: SourceResolver,
        actor: str,
        *,
        datasets: Callable[[], DatasetRegistrar] | None = None,
        memory_limit: str = "1GB",
        clock: Callable[[], float] = time.time,
        view_cache: ViewCache | None = None,
    ) -> None:
        self.registry = registry
        self._online = online
        self.sources = sources
        self.actor = actor
        self._datasets = datasets
        self.memory_limit = memory_limit
        self._clock = clock
        self._cache = view_cache

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _audit(self, action: str, target: str, **details: object) -> AuditEvent:
        return AuditEvent(self.actor, action, target, self._now_ms(), dict(details))

    # definitions

    def apply(self, views: Sequence[FeatureView], *, project: str | None = None, dry_run: bool = False) -> ApplyResult:
        """Register each view as a new version when its definition changed.

        Args:
            views: the definitions (see :func:`~steward.features.load_definitions`).
            project: the project of views that are new (default: each view's name).
            dry_run: only compute the differences.

        Returns:
            The differences, the stored versions and the unchanged views.

        Raises:
            InvalidInputError: a view named twice.
            ConflictError: a change would break a registered model's signature (named), or
                would move an existing view to another project.
        """
        names = [v.name for v in views]
        if len(set(names)) != len(names):
            raise InvalidInputError("a feature view is named twice", field="feature_views")
        planned: list[tuple[FeatureView, StoredView | None, list[FeatureChange]]] = []
        for view in views:
            try:
                old: StoredView | None = self.registry.get_view(view.name)
            except NotFoundError:
                old = None
            if old is not None and old.view.canonical() == view.canonical():
                planned.append((view, old, []))
                continue
            if old is not None and project is not None and new_project(view.name, project) != old.project:
                raise ConflictError(f"feature view {view.name} belongs to project {old.project}", field="project")
            planned.append((view, old, diff_views(None if old is None else old.view, view)))
        models = self.registry.model_inputs() if any(o is not None and c for _v, o, c in planned) else []
        broken = [why for view, old, changes in planned if old is not None for why in breaking_uses(changes, view, models)]
        if broken:
            raise ConflictError("refused: the change breaks registered models: " + "; ".join(broken[:10]), field="features")
        changes = [c for _v, _o, cs in planned for c in cs]
        if dry_run:
            return ApplyResult(changes, [], [v.name for v, _o, cs in planned if not cs], dry_run=True)
        applied: list[StoredView] = []
        unchanged: list[str] = []
        for view, old, view_changes in planned:
            if not view_changes:
                unchanged.append(view.name)
                continue
            owner = old.project if old is not None else new_project(view.name, project)
            audit = self._audit("features.apply", view.name, changes=[c.to_dict() for c in view_changes][:50])
            applied.append(self.registry.add_view_version(view, owner, audit))
        if self._cache is not None:
            self._cache.clear()
        return ApplyResult(changes, applied, unchanged)

    def get_view(self, name: str, version: int | None = None) -> StoredView:
        """One view (latest version by default). Raises NotFoundError."""
        return self.registry.get_view(name, version)

    def list_views(self, projects: Collection[str] | None = None) -> list[StoredView]:
        """The latest version of every view (only those in ``projects`` when given)."""
        return self.registry.list_views(projects)

    def freshness(self, projects: Collection[str] | None = None) -> list[dict[str, Any]]:  # Any: JSON
        """Per view: the newest materialised event time and its age in seconds (None: never materialised)."""
        now = self._now_ms()
        return [
            {
                "view": s.view.name,
                "newest_value_at": s.newest_value_at,
                "age_s": None if s.newest_value_at is None else max(0.0, (now - s.newest_value_at) / 1000),
                "materialized_at": s.materialized_at,
            }
            for s in self.registry.list_views(projects)
        ]

    def render_freshness(self) -> bytes:
        """Prometheus text: ``steward_feature_freshness_seconds{view}`` per materialised view
        (a view never materialised has no sample: alert on ``absent()`` for it)."""
        lines = [
            "# HELP steward_feature_freshness_seconds Age of the newest value of a feature view in the online store.",
            "# TYPE steward_feature_freshness_seconds gauge",
        ]
        for entry in self.freshness():
            if entry["age_s"] is not None:
                lines.append(f'steward_feature_freshness_seconds{{view="{entry["view"]}"}} {entry["age_s"]:.3f}')
        return ("\n".join(lines) + "\n").encode()

    def check_refs(self, features: Sequence[str] | str) -> list[str]:
        """``features`` as canonical ``view:feature`` references, each view and feature checked.

        A deployment declares what its requests are completed with through this check.

        Raises:
            NotFoundError: unknown feature views (named).
            InvalidInputError: malformed references, unknown features (named), a feature name
                that two views both supply.
        """
        refs, _stored, _chosen = self._plan(features)
        return [str(r) for r in refs]

    def _plan(
        self, features: Sequence[str] | str, *, cached: bool = False
    ) -> tuple[list[FeatureRef], dict[str, StoredView], dict[str, list[Feature]]]:
        refs = parse_feature_refs(features)
        cache = self._cache if cached else None
        stored: dict[str, StoredView] = {}
        missing: list[str] = []
        for ref in refs:
            if ref.view in stored or ref.view in missing:
                continue
            try:
                stored[ref.view] = cache.get(ref.view, self.registry.get_view) if cache else self.registry.get_view(ref.view)
            except NotFoundError:
                missing.append(ref.view)
        if missing:
            raise NotFoundError(f"unknown feature views: {', '.join(missing)}", field="features")
        chosen = resolve_refs(refs, {name: s.view for name, s in stored.items()})
        return refs, stored, chosen

    # history

    def historical(
        self, entity_rows: Any, features: Sequence[str] | str, *, timestamp: str = "event_timestamp",  # Any: frame or path
        output: str | os.PathLike[str] | None = None, dask: str | None = None, engine: str = "auto",
    ) -> HistoricalResult:
        """Every entity row, in order, with each feature's latest value at or before the row's
        timestamp and within its view's TTL (ties on event time: see :mod:`steward.core.features`).

        Args:
            entity_rows: pandas / polars DataFrame, pyarrow Table, or a Parquet file or folder.
            features: ``["view:feature", ...]``.
            timestamp: the entity rows' timestamp column.
            output: write the result there as Parquet (out of core) instead of returning it in memory.
            dask: a Dask scheduler address, or ``local``: one task per partition of the entity rows.
            engine: ``auto`` (in memory with numpy when the case allows, else DuckDB out of
                core), ``duckdb`` or ``memory`` (see docs/features.md).

        Raises:
            NotFoundError: an unknown view (named) or a missing source.
            InvalidInputError: unknown features (named), a missing join key or timestamp
                column, a source that does not match its view, the same feature name twice.
        """
        _refs, stored, chosen = self._plan(features)
        plan = [(stored[name].view, feats, self.sources.resolve(stored[name].view.source)) for name, feats in chosen.items()]
        lineage = [(name, stored[name].version) for name in chosen]
        target = None if output is None else os.fspath(output)
        if dask is not None:
            table, rows = retrieve_dask(entity_rows, timestamp, plan, self.memory_limit, dask, output=target, engine=engine)
        else:
            table, rows = retrieve(entity_rows, timestamp, plan, self.memory_limit, output=target, engine=engine)
        return HistoricalResult(table, target, lineage, rows)

    def register_historical(self, result: HistoricalResult, name: str, *, project: str | None = None) -> Any:  # Any: DatasetVersion
        """Register a historical frame as a dataset version with lineage to its view versions.

        Raises:
            InvalidInputError: no data service is wired here.
        """
        if self._datasets is None:
            raise InvalidInputError("registering a dataset needs the embedded store", field="dataset")
        description = "point-in-time features from " + ", ".join(f"{v}:{n}" for v, n in result.views)
        version = self._datasets().register(
            name, result.table if result.table is not None else result.path, description=description, project=project
        )
        self.registry.add_lineage(
            version.name, version.version, result.views,
            self._audit("features.lineage", f"{version.name}:{version.version}", views=[f"{v}:{n}" for v, n in result.views]),
        )
        return version

    def lineage(self, dataset: str, version: int) -> list[tuple[str, int]]:
        """The ``(view, version)`` pairs a dataset version was built from."""
        return self.registry.lineage_of(dataset, version)

    # online

    def materialize(
        self, views: Sequence[str] | None = None, *, start_ms: int | None = None, end_ms: int | None = None,
        incremental: bool = False,
    ) -> list[MaterializeResult]:
        """Write each view's latest values with ``start <= event time < end`` to the online store.

        Args:
            views: view names (default: every view).
            start_ms: interval start (ms); ignored with ``incremental``.
            end_ms: interval end (ms; default: now).
            incremental: start where the view's last materialisation ended (or at the beginning).

        Raises:
            NotFoundError: an unknown view or a missing source.
            InvalidInputError: start after end, or a source that does not match its view.
        """
        end = self._now_ms() if end_ms is None else end_ms
        targets = [self.registry.get_view(n) for n in views] if views else self.registry.list_views()
        online = self._online()
        results = []
        for stored in targets:
            start = stored.materialized_until if incremental else start_ms
            if start is not None and start > end:
                raise InvalidInputError(f"start is after end for view {stored.view.name}", field="start")
            results.append(self._materialize_one(online, stored, start, end))
        return results

    def _materialize_one(self, online: OnlineStore, stored: StoredView, start: int | None, end: int) -> MaterializeResult:
        view = stored.view
        entities = written = 0
        newest: int | None = None
        with duck(self.memory_limit) as con:
            relation = latest_rows(con, view, self.sources.resolve(view.source), start, end)
            for batch in relation.to_arrow_reader(_MAT_BATCH):
                keys, times, payloads = (batch.column(i).to_pylist() for i in range(3))
                if times:
                    top = max(times)
                    newest = top if newest is None else max(newest, top)
                entities += len(keys)
                written += online.write_json(view.name, list(zip(keys, times, payloads, strict=True)))
        self.registry.record_materialization(
            view.name, end, newest,
            self._audit("features.materialize", view.name, start=start, end=end, entities=entities, written=written),
        )
        return MaterializeResult(view.name, start, end, entities, written, newest)

    def online(self, entity_rows: Sequence[Mapping[str, Any]], features: Sequence[str] | str) -> OnlineResult:  # Any: key values
        """The latest materialised values for each entity row, in one round trip to the online store.

        A missing entity, or a value older than its view's TTL, comes back as nulls with its
        view's status ``missing`` / ``expired`` (never an error).

        Raises:
            NotFoundError: an unknown view (named).
            InvalidInputError: unknown features (named), an entity row without a join key, too many rows.
        """
        if not isinstance(entity_rows, Sequence) or isinstance(entity_rows, (str, bytes)):
            raise InvalidInputError("entity rows are a list of {join key: value} objects", field="entities")
        if len(entity_rows) > MAX_ONLINE_ROWS:
            raise InvalidInputError(f"at most {MAX_ONLINE_ROWS:,} entity rows per lookup", field="entities")
        if self._cache is not None:
            memo = features if isinstance(features, str) else tuple(features)
            refs, stored, chosen = self._cache.plan(memo, lambda: self._plan(features, cached=True))
        else:
            refs, stored, chosen = self._plan(features)
        view_keys = {name: stored[name].view.join_keys for name in chosen}
        # views of the same join keys are one grid (entity rows x views): one read each
        grids: dict[tuple[str, ...], list[str]] = {}
        for name, keys in view_keys.items():
            grids.setdefault(keys, []).append(name)
        encoded: dict[tuple[str, ...], list[str]] = {keys: [] for keys in grids}
        for i, row in enumerate(entity_rows):
            if not isinstance(row, Mapping):
                raise InvalidInputError(f"entity row {i} is not an object", field="entities")
            try:
                for keys, out in encoded.items():
                    out.append(entity_key([row[k] for k in keys]))
            except KeyError:
                name, absent = next((n, k) for n, ks in view_keys.items() for k in ks if k not in row)
                raise InvalidInputError(f"entity row {i} has no join key {absent} (view {name})", field=absent) from None
        store = self._online()
        order = list(chosen)  # the views, in the order of the features asked
        if len(grids) == 1:  # one read, already entity-major in ``order``
            ((keys, _names),) = grids.items()
            flat = store.read_grid(order, encoded[keys])
            width = len(order)
            per_row = [flat[i * width:(i + 1) * width] for i in range(len(entity_rows))]
        else:
            found: dict[str, list[Any]] = {}  # Any: [event_ms, values] or None, per view in row order
            for keys, names in grids.items():
                cells = store.read_grid(names, encoded[keys])
                for j, name in enumerate(names):
                    found[name] = cells[j::len(names)]
            per_row = [[found[name][i] for name in order] for i in range(len(entity_rows))]
        now = self._now_ms()
        # per view: its feature names, their nulls, the oldest event time still fresh (older:
        # expired); a row whose views are all present, fresh and hold exactly the names
        # asked (the common case) is built by a few C-level calls, any other view by view
        wanted = [tuple(f.name for f in chosen[name]) for name in order]
        nulls = [dict.fromkeys(w) for w in wanted]
        ttls = [stored[name].view.ttl_s for name in order]
        fresh = [-math.inf if ttl is None else now - ttl * 1000 for ttl in ttls]
        present = dict.fromkeys(order, "present")
        expired = dict.fromkeys(order, "expired")
        absent = dict.fromkeys(order, "missing")
        no_values = {f: None for names_asked in wanted for f in names_asked}
        rows = []
        for row, cells in zip(entity_rows, per_row, strict=True):
            when = [None if c is None else c[0] for c in cells]
            if None not in when:
                stamps = cast("list[int]", when)
                if all(map(operator.ge, stamps, fresh)):
                    got = list(map(_SECOND, cells))
                    if list(map(tuple, got)) == wanted:
                        values: dict[str, Any] = {}  # Any: JSON
                        for part in got:
                            values.update(part)
                        rows.append({"entity": dict(row), "values": values, "event_times": dict(zip(order, when, strict=True)),
                                     "status": present.copy(), "missing": False})
                        continue
                elif not any(map(operator.ge, stamps, fresh)):  # every view stale
                    rows.append({"entity": dict(row), "values": no_values.copy(), "event_times": dict(zip(order, when, strict=True)),
                                 "status": expired.copy(), "missing": True})
                    continue
            elif when.count(None) == len(when):  # an entity never materialised
                rows.append({"entity": dict(row), "values": no_values.copy(), "event_times": dict.fromkeys(order),
                             "status": absent.copy(), "missing": True})
                continue
            states = ["missing" if t is None else "present" if t >= f else "expired" for t, f in zip(when, fresh, strict=True)]
            if "present" not in states:
                values = no_values.copy()
            else:
                values = {}
                for cell, state, names_asked, blank in zip(cells, states, wanted, nulls, strict=True):
                    if state != "present":
                        values.update(blank)
                    elif tuple(cell[1]) == names_asked:
                        values.update(cell[1])
                    else:
                        values.update({f: cell[1].get(f) for f in names_asked})
            rows.append({"entity": dict(row), "values": values, "event_times": dict(zip(order, when, strict=True)),
                         "status": dict(zip(order, states, strict=True)), "missing": states.count("present") != len(states)})
        return OnlineResult([str(r) for r in refs], rows)
