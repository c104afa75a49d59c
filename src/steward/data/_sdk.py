"""Module-level data functions on the process's default client (``steward.data.register``):
the embedded store, or the server ``STEWARD_TRACKING_URI`` names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

import steward

from ._lineage import Lineage
from ._versions import DatasetVersion

if TYPE_CHECKING:
    from steward.sdk import DataBackend


def _service() -> DataBackend:
    return steward.get_client().data


def register(name: str, source: Any, *, reference_only: bool = False, description: str | None = None) -> DatasetVersion:  # Any: frame, table or path
    """Register ``source`` (pandas/polars DataFrame, pyarrow Table, Parquet/CSV file or folder).

    Identical content gives the same version. Against a server the data is uploaded in
    resumable chunks (a frame is written to Parquet first).

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
