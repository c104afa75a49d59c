"""Module-level feature functions on the process's default client (``steward.features.historical``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import steward
from steward.core.features import FeatureView

from ._definitions import load_definitions
from ._service import ApplyResult, FeatureService, HistoricalResult, MaterializeResult, OnlineResult


def _service() -> FeatureService:
    service: FeatureService = steward.get_client().services.features()
    return service


def apply(definitions: Sequence[FeatureView] | FeatureView | str | os.PathLike[str], *, dry_run: bool = False) -> ApplyResult:
    """Register feature views (objects, or a YAML / Python definition file) with versions.

    A change that removes a feature, or changes its type, that a registered model's
    signature takes is refused, naming the model. Embedded store only; against a server
    use ``POST /api/v1/features/views``.

    Example:
        >>> customer = steward.features.Entity("customer", join_keys=("customer_id",))  # doctest: +SKIP
        >>> view = steward.features.FeatureView(  # doctest: +SKIP
        ...     "fraud_stats", entities=(customer,), ttl="30d",
        ...     features=(steward.features.Feature("txn_count_7d", "int64"),),
        ...     source=steward.features.FeatureSource("parquet", "data/fraud_stats/", event_time="ts"))
        >>> steward.features.apply([view]).to_dict()["applied"]  # doctest: +SKIP
        [{'name': 'fraud_stats', 'version': 1, 'project': 'fraud_stats'}]
    """
    if isinstance(definitions, (str, os.PathLike)):
        views = load_definitions(definitions)
    elif isinstance(definitions, FeatureView):
        views = [definitions]
    else:
        views = list(definitions)
    return _service().apply(views, project=steward.get_client().settings.project, dry_run=dry_run)


def historical(
    entity_df: Any, features: Sequence[str], *, timestamp: str = "event_timestamp",  # Any: frame or Parquet path
    output: str | os.PathLike[str] | None = None, dask: str | None = None,
) -> HistoricalResult:
    """Point-in-time correct features for every entity row, in order (never the future).

    ``dask``: a Dask scheduler address, or ``"local"``: one task per partition of the entity rows.

    Example:
        >>> result = steward.features.historical(orders, ["fraud_stats:txn_count_7d"])  # doctest: +SKIP
        >>> frame = result.to_pandas()  # doctest: +SKIP
    """
    return _service().historical(entity_df, features, timestamp=timestamp, output=output, dask=dask)


def register(result: HistoricalResult, name: str) -> Any:  # Any: DatasetVersion
    """Register a historical frame as a dataset version, with lineage to its view versions.

    Example:
        >>> steward.features.register(result, "fraud_training")  # doctest: +SKIP
    """
    return _service().register_historical(result, name, project=steward.get_client().settings.project)


def materialize(
    views: Sequence[str] | None = None, *, start_ms: int | None = None, end_ms: int | None = None, incremental: bool = False
) -> list[MaterializeResult]:
    """Write the latest values of views to the online store.

    Example:
        >>> steward.features.materialize(["fraud_stats"], incremental=True)  # doctest: +SKIP
    """
    return _service().materialize(views, start_ms=start_ms, end_ms=end_ms, incremental=incremental)


def online(entity_rows: Sequence[Mapping[str, Any]], features: Sequence[str]) -> OnlineResult:  # Any: key values
    """The latest values for entity rows from the online store; missing ones are nulls with a flag.

    Example:
        >>> steward.features.online([{"customer_id": 42}], ["fraud_stats:txn_count_7d"]).rows[0]["values"]  # doctest: +SKIP
        {'txn_count_7d': 3}
    """
    return _service().online(entity_rows, features)
