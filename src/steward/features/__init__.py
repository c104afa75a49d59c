"""Feature store: definitions, point-in-time history, materialisation and online lookup.

Define entities and feature views in Python (this module's :class:`Entity`,
:class:`FeatureView`, :class:`Feature`, :class:`FeatureSource`) or YAML, register them
with :func:`apply`, build training frames with :func:`historical`, fill the online store
with :func:`materialize` and read it with :func:`online`. The point-in-time rules are
documented in :mod:`steward.core.features`.
"""

from __future__ import annotations

from steward.core.features import (
    Entity,
    Feature,
    FeatureChange,
    FeatureRef,
    FeatureSource,
    FeatureView,
)

from ._definitions import load_definitions, parse_definitions
from ._lookup import FeatureLookup, LookedUp
from ._ports import (
    DatasetRegistrar,
    FeatureRegistry,
    OnlineRow,
    OnlineStore,
    ResolvedSource,
    SourceResolver,
    StoredView,
)
from ._sdk import apply, historical, materialize, online, register
from ._service import (
    ApplyResult,
    FeatureService,
    HistoricalResult,
    MaterializeResult,
    OnlineResult,
    ViewCache,
    entity_key,
)
from ._sources import StewardSources, sql_table

__all__ = [
    "ApplyResult",
    "DatasetRegistrar",
    "Entity",
    "Feature",
    "FeatureChange",
    "FeatureLookup",
    "FeatureRef",
    "FeatureRegistry",
    "FeatureService",
    "FeatureSource",
    "FeatureView",
    "HistoricalResult",
    "LookedUp",
    "MaterializeResult",
    "OnlineResult",
    "OnlineRow",
    "OnlineStore",
    "ResolvedSource",
    "SourceResolver",
    "StewardSources",
    "StoredView",
    "ViewCache",
    "apply",
    "entity_key",
    "historical",
    "load_definitions",
    "materialize",
    "online",
    "parse_definitions",
    "register",
    "sql_table",
]
