"""Module-level data functions on the process's default client (``steward.data.register``)."""

from __future__ import annotations

from typing import Any

import polars as pl

import steward

from ._lineage import Lineage
from ._service import DataService
from ._versions import DatasetVersion


def _service() -> DataService:
    service: DataService = steward.get_client().services.data()
    return service


def register(name: str, source: Any, *, reference_only: bool = False, description: str | None = None) -> DatasetVersion:  # Any: frame, table or path
    """Register ``source`` (pandas/polars DataFrame, pyarrow Table, Parquet/CSV file or folder).

    Identical content gives the same version. Embedded store only; against a server use
    ``POST /api/v1/datasets/{name}/versions``.

    Example:
        >>> version = steward.data.register("transactions", "data/transactions.parquet")  # doctest: +SKIP
        >>> version.ref  # doctest: +SKIP
        'datasets:/transactions/1'
    """
    return _service().register(
        name, source, reference_only=reference_only, description=description, project=steward.get_client().settings.project
    )


def get(ref: str) -> DatasetVersion:
    """A version by ``datasets:/name/3``, ``name:3``, ``name`` (latest) or a hash prefix."""
    return _service().get(ref)


def load(ref: str) -> pl.DataFrame:
    """The data of a registered version as a polars DataFrame."""
    return _service().load(ref)


def lineage(ref: str) -> Lineage:
    """The runs (and later models) that used a version."""
    return _service().lineage(ref)
