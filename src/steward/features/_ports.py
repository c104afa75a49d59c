"""What the feature stage needs from storage, as protocols its adapters implement.

The registry of definitions (with materialisation state and lineage) lives in the metadata
database (``adapters/sql/_feature_store.py``); the online store is SQLite in the embedded
default or Redis in team mode (``adapters/online``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from steward.core.features import FeatureSource, FeatureView, ModelInputs
from steward.tracking._ports import AuditEvent

__all__ = ["DatasetRegistrar", "FeatureRegistry", "OnlineRow", "OnlineStore", "ResolvedSource", "SourceResolver", "StoredView"]


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """A view's source made readable: Parquet paths (a file, folder or glob) or an Arrow table."""

    paths: str | None = None
    table: Any = None  # Any: a pyarrow Table (pyarrow ships no types)


@dataclass(frozen=True, slots=True)
class StoredView:
    """A registered version of a view, with the view's materialisation state.

    Attributes:
        materialized_until: ms; the end of the last materialised interval (incremental runs start here).
        newest_value_at: ms; the newest event time written to the online store (freshness).
    """

    view: FeatureView
    version: int
    project: str
    created_at: int
    created_by: str
    materialized_until: int | None = None
    newest_value_at: int | None = None
    materialized_at: int | None = None

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {
            **self.view.to_dict(), "version": self.version, "project": self.project, "created_at": self.created_at,
            "created_by": self.created_by, "materialized_until": self.materialized_until,
            "newest_value_at": self.newest_value_at, "materialized_at": self.materialized_at,
        }


@dataclass(frozen=True, slots=True)
class OnlineRow:
    """The latest values of one view for one entity key (``entity_key``: JSON of the join-key values)."""

    view: str
    entity_key: str
    event_ms: int
    values: dict[str, Any]  # Any: feature values (JSON scalars)


class FeatureRegistry(Protocol):
    """Versioned view definitions, their materialisation state and dataset lineage."""

    def get_view(self, name: str, version: int | None = None) -> StoredView:
        """One version (``None``: the latest). Raises NotFoundError naming the view."""
        ...

    def list_views(self, projects: Collection[str] | None = None) -> list[StoredView]:
        """The latest version of every view (only those in ``projects`` when given)."""
        ...

    def add_view_version(self, view: FeatureView, project: str, audit: AuditEvent) -> StoredView:
        """Store ``view`` as its next version (a new view is created in ``project``)."""
        ...

    def model_inputs(self) -> list[ModelInputs]:
        """The input columns of every registered model version that has a signature."""
        ...

    def record_materialization(self, name: str, until_ms: int, newest_ms: int | None, audit: AuditEvent) -> StoredView:
        """Advance the view's materialised interval end and newest value time (never backwards)."""
        ...

    def add_lineage(self, dataset: str, version: int, views: Sequence[tuple[str, int]], audit: AuditEvent) -> None:
        """Record that a dataset version was built from these view versions."""
        ...

    def lineage_of(self, dataset: str, version: int) -> list[tuple[str, int]]:
        """The ``(view, version)`` pairs a dataset version was built from."""
        ...


class OnlineStore(Protocol):
    """The latest value of each view for each entity key.

    One entity row of a view is written as one unit (all its features and its event time
    together), and only when its event time is not older than the stored one, so a
    re-run or an interrupted run leaves each row old or new, never a mix.
    """

    def write(self, rows: Sequence[OnlineRow]) -> int:
        """Upsert ``rows``; returns how many replaced or created a stored row."""
        ...

    def write_json(self, view: str, rows: Sequence[tuple[str, int, str]]) -> int:
        """:meth:`write` for rows already encoded: ``(entity_key, event_ms, values as a JSON object)``."""
        ...

    def read(self, keys: Sequence[tuple[str, str]]) -> list[OnlineRow | None]:
        """The rows of ``(view, entity_key)`` pairs in one round trip (None: missing)."""
        ...

    def read_grid(self, views: Sequence[str], keys: Sequence[str]) -> list[Any]:  # Any: [event_ms, values] or None
        """Every view's row for every entity key in one round trip, entity-major (the
        ``len(views)`` views of ``keys[0]`` first): ``[event_ms, {feature: value}]`` or None
        when missing. The lookup path: no per-row object is built."""
        ...

    def close(self) -> None: ...


class SourceResolver(Protocol):
    """Turns a view's source (a path, a dataset version, a SQL query) into something DuckDB reads."""

    def resolve(self, source: FeatureSource) -> ResolvedSource: ...


class DatasetRegistrar(Protocol):
    """Registers a retrieved frame as a dataset version (the data stage's service)."""

    def register(self, name: str, source: object, *, description: str | None = None, project: str | None = None) -> Any: ...  # Any: DatasetVersion
