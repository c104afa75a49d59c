"""Steward: carry a machine-learning model through its whole life.

Example:
    >>> import steward  # doctest: +SKIP
    >>> with steward.start_run(experiment="churn", params={"C": 1.0}) as run:  # doctest: +SKIP
    ...     run.log_metric("loss", 0.3, step=1)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from steward._lazy import lazy_dir as _lazy_dir
from steward._lazy import lazy_name as _lazy_name

if TYPE_CHECKING:  # annotations only: the package exports exactly its __all__
    from steward.core import Run
    from steward.sdk import ActiveRun, Client
    from steward.settings import Settings
    from steward.tracking import RunPage

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Client",
    "Settings",
    "__version__",
    "active_run",
    "get_client",
    "pipeline",
    "search_runs",
    "seed_everything",
    "start_run",
    "step",
]

# The SDK (pydantic, httpx, the tracking stage) is imported on first use, not by
# `import steward`: the CLI imports this package for its version and must start fast.
_LAZY = {
    "ActiveRun": "steward.sdk",
    "Client": "steward.sdk",
    "Settings": "steward.settings",
    "pipeline": "steward.pipelines",
    "step": "steward.pipelines",
}


def __getattr__(name: str) -> object:
    return _lazy_name(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return _lazy_dir(_LAZY, globals())


# The module-level functions need a default client, as mlflow's do. It is built lazily
# from the environment on first use; code that wants explicit state builds a Client.
_default: dict[str, object] = {}
_default_lock = threading.Lock()


def get_client() -> Client:
    """The process's default :class:`Client`, built from ``STEWARD_*`` on first use."""
    from steward.sdk import Client
    from steward.settings import Settings

    with _default_lock:
        client = _default.get("client")
        if client is None:
            client = _default["client"] = Client(Settings())
        return client  # type: ignore[return-value]


def start_run(
    experiment: str = "default",
    *,
    name: str | None = None,
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
    seed: int | None = None,
) -> ActiveRun:
    """Start a tracked run; use it as a context manager.

    Example:
        >>> with steward.start_run(experiment="churn", params={"C": 1.0}) as run:  # doctest: +SKIP
        ...     for i in range(10):
        ...         run.log_metric("loss", 1 / (i + 1), step=i)
    """
    run = get_client().start_run(experiment, name=name, params=params, tags=tags, seed=seed)
    _default["active"] = run
    return run


def active_run() -> ActiveRun | None:
    """The run most recently started by :func:`start_run` in this process, if still open."""
    from steward.sdk import ActiveRun

    run = _default.get("active")
    if isinstance(run, ActiveRun) and not run._ended:
        return run
    return None


def seed_everything(seed: int) -> dict[str, bool]:
    """Seed random, numpy and torch (when installed); tag the active run with the seed.

    Under ``steward reproduce`` the seed the original run recorded replaces ``seed``.

    Example:
        >>> steward.seed_everything(42)  # doctest: +SKIP
        {'random': True, 'numpy': True, 'torch': False}
    """
    from steward.tracking import seed_everything as seed_all
    from steward.tracking._seed import reproduced_seed

    seed = reproduced_seed(seed)  # under `steward reproduce`: the seed the original run recorded
    seeded = seed_all(seed)
    run = active_run()
    if run is not None:
        run.set_tag("steward.seed", seed)
    return seeded


def search_runs(
    experiments: Sequence[str] | str | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
) -> list[Run]:
    """Search runs: ``steward.search_runs("churn", filter="metrics.auc > 0.9", order_by=["metrics.auc DESC"])``."""
    page: RunPage = get_client().search_runs(experiments, filter, order_by, max_results, page_token)
    return page.runs
