"""``steward.deployments``: create deployments and change their traffic from Python.

One spelling per task, the same verbs as ``steward deploy``::

    import steward.deployments as deployments

    deployments.create("fraud-api", "fraud@champion", reason="launch")
    deployments.canary("fraud-api", "fraud:5", percent=10)
    deployments.ab("fraud-api", "fraud:5", split=50, sticky_key="customer_id")
    deployments.shadow("fraud-api", "fraud:5")
    deployments.switch("fraud-api", "fraud:5")        # blue-green
    deployments.rollout("fraud-api", "fraud:5", policy=open("rollout.yaml").read())
    deployments.promote("fraud-api"); deployments.rollback("fraud-api")
    deployments.get("fraud-api").plan; deployments.history("fraud-api")

Each function works on the embedded store or a Steward server, chosen by
:class:`~steward.settings.Settings` (``STEWARD_TRACKING_URI``) as the tracking client is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

from steward.sdk import HttpBackend
from steward.serving import Deployment, DeploymentService, HistoryEntry, check_deployment_name
from steward.serving._ports import deployment_from_dict, history_from_dict
from steward.settings import Settings
from steward.wiring import build_services

__all__ = [
    "Deployment",
    "HistoryEntry",
    "ab",
    "canary",
    "create",
    "delete",
    "get",
    "history",
    "list",
    "promote",
    "rollback",
    "rollout",
    "rollout_status",
    "set_features",
    "shadow",
    "switch",
]

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values
_list = list  # the builtin, before ``list`` below shadows it in this module


@contextmanager
def _http(settings: Settings) -> Iterator[HttpBackend]:
    backend = HttpBackend(str(settings.tracking_uri), token=settings.resolved_token(), user=settings.user, timeout=settings.http_timeout)
    try:
        yield backend
    finally:
        backend.close()


def _run(settings: Settings | None, local: Callable[[DeploymentService], T], remote: Callable[[HttpBackend], T]) -> T:
    cfg = settings or Settings()
    if cfg.is_remote():
        with _http(cfg) as backend:
            return remote(backend)
    services = build_services(cfg)
    try:
        return local(services.deployments())
    finally:
        services.close()


def _path(name: str, suffix: str = "") -> str:
    return f"/deployments/{quote(check_deployment_name(name), safe='')}{suffix}"


def _post(settings: Settings | None, name: str, verb: str, body: JSON, local: Callable[[DeploymentService], Deployment]) -> Deployment:
    return _run(settings, local, lambda b: deployment_from_dict(b._call("POST", _path(name, f"/{verb}"), body=body)))


def create(
    name: str, model: str, *, reason: str = "", features: _list[str] | None = None, settings: Settings | None = None
) -> Deployment:
    """Create a deployment serving ``model`` with all traffic (an alias is resolved now).

    With ``features`` (``["fraud_stats:txn_count_7d", ...]``) requests carry only entity keys
    and request-time inputs; the serving process completes them from the online feature store.

    Raises:
        AlreadyExistsError: the name is taken.
        ConflictError: the version is retired, unapproved where approval is required, or failed its gate.

    Example:
        >>> steward.deployments.create("fraud-api", "fraud@champion").plan.variants  # doctest: +SKIP
        (Variant(name='primary', model='fraud:3', weight=100.0, shadow=False),)
    """
    return _run(
        settings,
        lambda s: s.create_deployment(name, model, reason=reason, features=features),
        lambda b: deployment_from_dict(b._call("POST", "/deployments", body={
            "name": name, "model": model, "reason": reason, **({"features": features} if features else {}),
        })),
    )


def set_features(name: str, features: _list[str], *, reason: str = "", settings: Settings | None = None) -> Deployment:
    """Declare the features a deployment's requests are completed with (``[]``: none).

    Raises:
        NotFoundError: no such deployment, or an unknown feature view (named).
        InvalidInputError: an unknown feature (named).

    Example:
        >>> steward.deployments.set_features("fraud-api", ["fraud_stats:txn_count_7d"]).features  # doctest: +SKIP
        ('fraud_stats:txn_count_7d',)
    """
    return _run(
        settings,
        lambda s: s.set_features(name, features, reason=reason),
        lambda b: deployment_from_dict(b._call("PUT", _path(name, "/features"), body={"features": features, "reason": reason})),
    )


def get(name: str, *, settings: Settings | None = None) -> Deployment:
    """A deployment and its current traffic plan.

    Raises:
        NotFoundError: no such deployment.

    Example:
        >>> steward.deployments.get("fraud-api").plan.revision  # doctest: +SKIP
        4
    """
    return _run(settings, lambda s: s.get_deployment(name), lambda b: deployment_from_dict(b._call("GET", _path(name))))


def list(*, project: str | None = None, settings: Settings | None = None) -> _list[Deployment]:
    """Every deployment (of one project), by name.

    Example:
        >>> [d.name for d in steward.deployments.list()]  # doctest: +SKIP
        ['fraud-api']
    """
    return _run(
        settings,
        lambda s: s.list_deployments(project=project),
        lambda b: [deployment_from_dict(d) for d in b._call("GET", "/deployments", params={"project": project} if project else None)["deployments"]],
    )


def delete(name: str, *, reason: str = "", settings: Settings | None = None) -> None:
    """Delete a deployment (its history stays).

    Example:
        >>> steward.deployments.delete("fraud-api", reason="decommissioned")  # doctest: +SKIP
    """
    _run(settings, lambda s: s.delete_deployment(name, reason=reason), lambda b: b._call("DELETE", _path(name), params={"reason": reason}))


def canary(name: str, model: str, *, percent: float, reason: str = "", settings: Settings | None = None) -> Deployment:
    """Send ``percent`` of requests to ``model``.

    Example:
        >>> steward.deployments.canary("fraud-api", "fraud:5", percent=10)  # doctest: +SKIP
    """
    body = {"model": model, "percent": percent, "reason": reason}
    return _post(settings, name, "canary", body, lambda s: s.canary(name, model, percent=percent, reason=reason))


def ab(name: str, model: str, *, split: float, sticky_key: str | None = None, reason: str = "", settings: Settings | None = None) -> Deployment:
    """A/B test: ``split`` percent to ``model``; a ``sticky_key`` keeps each key on one variant.

    Example:
        >>> steward.deployments.ab("fraud-api", "fraud:5", split=50, sticky_key="customer_id")  # doctest: +SKIP
    """
    body = {"model": model, "split": split, "sticky_key": sticky_key, "reason": reason}
    return _post(settings, name, "ab", body, lambda s: s.ab(name, model, split=split, sticky_key=sticky_key, reason=reason))


def shadow(name: str, model: str, *, reason: str = "", settings: Settings | None = None) -> Deployment:
    """Mirror every request to ``model``; its answers are logged, never returned.

    Example:
        >>> steward.deployments.shadow("fraud-api", "fraud:5")  # doctest: +SKIP
    """
    return _post(settings, name, "shadow", {"model": model, "reason": reason}, lambda s: s.shadow(name, model, reason=reason))


def switch(name: str, model: str, *, reason: str = "", settings: Settings | None = None) -> Deployment:
    """Blue-green: ``model`` takes all traffic; the old primary stays for an instant rollback.

    Raises:
        InvalidInputError: the version fails to load (the deployment stays as it was).

    Example:
        >>> steward.deployments.switch("fraud-api", "fraud:5")  # doctest: +SKIP
    """
    return _post(settings, name, "switch", {"model": model, "reason": reason}, lambda s: s.switch(name, model, reason=reason))


def promote(name: str, *, reason: str = "", settings: Settings | None = None) -> Deployment:
    """The candidate (or shadow) becomes the primary.

    Example:
        >>> steward.deployments.promote("fraud-api", reason="canary healthy")  # doctest: +SKIP
    """
    return _post(settings, name, "promote", {"reason": reason}, lambda s: s.promote(name, reason=reason))


def rollback(name: str, *, reason: str = "", settings: Settings | None = None) -> Deployment:
    """All traffic back to the primary, or to the previous version after a switch or promotion.

    Example:
        >>> steward.deployments.rollback("fraud-api", reason="errors")  # doctest: +SKIP
    """
    return _post(settings, name, "rollback", {"reason": reason}, lambda s: s.rollback(name, reason=reason))


def rollout(name: str, model: str, *, policy: str, reason: str = "", settings: Settings | None = None) -> Deployment:
    """Start a progressive rollout of ``model`` under ``policy`` (the YAML text).

    Raises:
        InvalidInputError: a policy fault, naming its line.

    Example:
        >>> steward.deployments.rollout("fraud-api", "fraud:5", policy="steps: [5, 25, 50, 100]")  # doctest: +SKIP
    """
    body = {"model": model, "policy": policy, "reason": reason}
    return _post(settings, name, "rollout", body, lambda s: s.start_rollout(name, model, policy, reason=reason))


def rollout_status(name: str, *, settings: Settings | None = None) -> JSON:
    """The rollout's state, step and evidence as of now (JSON).

    Example:
        >>> steward.deployments.rollout_status("fraud-api")["next"]["action"]  # doctest: +SKIP
        'hold'
    """
    return _run(settings, lambda s: s.rollout_status(name), lambda b: dict(b._call("GET", _path(name, "/rollout"))))


def history(name: str, *, max_results: int = 100, settings: Settings | None = None) -> _list[HistoryEntry]:
    """Changes of a deployment, newest first: who, what and why.

    Example:
        >>> steward.deployments.history("fraud-api")[0].action  # doctest: +SKIP
        'rollout.rollback'
    """
    return _run(
        settings,
        lambda s: s.list_history(name, max_results=max_results),
        lambda b: [history_from_dict(e) for e in b._call("GET", _path(name, "/history"), params={"max_results": max_results})["history"]],
    )
