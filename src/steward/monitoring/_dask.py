"""Summaries computed on a Dask distributed cluster: one task per Parquet row group, merged here.

The summaries are mergeable (:mod:`._summaries`), so a file that one machine should not read
alone is summarised by the workers, one row group each, and only the summaries (kilobytes per
column) and each part's share of the row sample travel back. The parts are merged in file
order, so the result equals the one of :func:`~steward.monitoring.summarise` on one machine:
counts and samples exactly, means and variances up to floating-point rounding.
Workers must see the file at the same path (a shared file system).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from steward._local_cluster import local_cluster
from steward.errors import InvalidInputError

from ._summaries import ParquetSource, TableSource, TableSummary, summarise

__all__ = ["DaskSummariser"]


def _summarise_part(
    path: str, group: int, kinds: dict[str, str], edges: dict[str, Any], top_k: int, sample: Any
) -> TableSummary:  # Any: numpy arrays
    return summarise(ParquetSource(path, row_groups=[group]), kinds, edges, top_k=top_k, sample=sample)


class DaskSummariser:
    """Computes a side's summary on a Dask cluster (a :class:`~._report.Summariser`).

    Args:
        scheduler: a scheduler address (``tcp://host:8786``, or an in-process cluster's
            address), or ``local`` for a ``LocalCluster`` of ``workers`` processes started here.
        workers: processes of the ``local`` cluster.

    Raises:
        InvalidInputError: Dask is not installed, or the scheduler cannot be reached.

    Example:
        >>> with DaskSummariser("tcp://scheduler:8786") as on_dask:  # doctest: +SKIP
        ...     result = report("big-ref.parquet", "big-cur.parquet", summarise_with=on_dask)
    """

    def __init__(self, scheduler: str, *, workers: int = 2) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise InvalidInputError("--dask needs Dask: pip install 'steward[dask]'", field="dask") from None
        self._cluster = (
            local_cluster(workers)
            if scheduler == "local"
            else None
        )
        try:
            self._client = Client(self._cluster if self._cluster is not None else scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise InvalidInputError(
                f"cannot reach the Dask scheduler {scheduler[:200]!r}: {str(exc)[:200]}", field="dask"
            ) from exc
        self.parts = 0

    def __call__(
        self, source: TableSource, kinds: dict[str, str], edges: dict[str, Any], top_k: int, sample: Any
    ) -> TableSummary:  # Any: numpy arrays
        """The summary of ``source`` (a Parquet file), one task per row group.

        Raises:
            InvalidInputError: the source is not a Parquet file (a dataset version in memory).
        """
        if not isinstance(source, ParquetSource) or source.row_groups is not None:
            raise InvalidInputError("--dask reads Parquet files: give file paths, not dataset versions", field="dask")
        wanted = np.asarray(sample, dtype=np.int64) if sample is not None else None
        futures = []
        offset = 0
        path = str(source.path.resolve())
        for group in range(source.num_row_groups()):
            rows = ParquetSource(path, row_groups=[group]).num_rows()
            part_sample = None
            if wanted is not None:
                lo, hi = np.searchsorted(wanted, [offset, offset + rows])
                part_sample = wanted[lo:hi] - offset
            futures.append(self._client.submit(_summarise_part, path, group, kinds, edges, top_k, part_sample, pure=False))
            offset += rows
        self.parts += len(futures)
        parts: list[TableSummary] = self._client.gather(futures)  # type: ignore[no-untyped-call]
        if not parts:
            return summarise(source, kinds, edges, top_k=top_k, sample=sample)
        merged = parts[0]
        for part in parts[1:]:
            merged = merged.merge(part)
        return merged

    def close(self) -> None:
        """Disconnect (and stop a ``local`` cluster)."""
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
