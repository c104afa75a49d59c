"""One way to start a Dask ``LocalCluster`` for every stage that offers ``--dask local``."""

from __future__ import annotations

from typing import Any


def local_cluster(workers: int | None = None) -> Any:  # Any: distributed.LocalCluster (optional dependency)
    """A ``LocalCluster`` of ``workers`` processes (Dask's default when None), one thread each.

    Its HTTP server takes any free port (``":0"``): with ``None`` the scheduler still binds
    8787, so two clusters started at once on one machine (two test runs, two commands)
    collide.
    """
    from dask.distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")  # type: ignore[no-untyped-call]
