"""Which audit entries are webhook events, and what each is called.

Every registry and deployment mutation writes one entry to the hash-chained audit trail in
the same transaction as the change, so the delivery worker reads the trail instead of being
called by each service: nothing is missed when a process dies between the change and the
notification, and a service needs no knowledge of webhooks. This module is the one table
from audit actions to event names (pure: no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EVENTS", "PING", "Occurrence", "event_of", "parse_target"]

# the events a webhook can subscribe to, in lifecycle order
EVENTS: tuple[str, ...] = (
    "model_version.created",
    "model_version.approved",
    "model_version.promoted",
    "model_version.rolled_back",
    "model_version.retired",
    "deployment.created",
    "deployment.promoted",
    "deployment.rolled_back",
)
PING = "ping"  # sent by `steward webhooks test`, whatever the subscription

_MODEL_ACTIONS = {
    "models.create_version": "model_version.created",
    "models.import_version": "model_version.created",
    "models.approve": "model_version.approved",
    # an alias moving to a version (fraud@champion -> 4) is how many teams promote
    "models.set_alias": "model_version.promoted",
}
# Retirement is the transition to ``retired``: every way of retiring goes through it.
# ``steward models retire`` (steward.stewardship) also audits ``model_version.retire`` with the
# retention evidence, right after that transition; it is not a second event.
_DEPLOYMENT_ACTIONS = {
    "deployments.create": "deployment.created",
    "deployments.promote": "deployment.promoted",
    "deployments.rollout.promote": "deployment.promoted",
    "deployments.switch": "deployment.promoted",  # blue-green: the new version takes all traffic
    "deployments.rollback": "deployment.rolled_back",
    "deployments.rollout.rollback": "deployment.rolled_back",
}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An audit entry read as a webhook event.

    Attributes:
        event: one of :data:`EVENTS`.
        kind: ``model`` or ``deployment``: what ``subject`` names (and whose project it is in).
        subject: the registered model's or the deployment's name.
        version: the model version concerned, when one is.
        alias: the alias that moved (``model_version.promoted`` by alias).
    """

    event: str
    kind: str
    subject: str
    version: int | None = None
    alias: str | None = None


def parse_target(target: str) -> tuple[str, str, int | None, str | None] | None:
    """``models:/fraud/3`` -> (``model``, ``fraud``, 3, None); ``models:/fraud@champion`` ->
    (``model``, ``fraud``, None, ``champion``); ``deployments:/fraud-api`` -> (``deployment``, ...)."""
    if target.startswith("deployments:/"):
        name = target[len("deployments:/"):]
        return ("deployment", name, None, None) if name else None
    if not target.startswith("models:/"):
        return None
    rest = target[len("models:/"):]
    if "@" in rest:
        name, _, alias = rest.partition("@")
        return ("model", name, None, alias) if name and alias else None
    name, _, version = rest.partition("/")
    if not name:
        return None
    return "model", name, int(version) if version.isdigit() else None, None


def _model_event(action: str, details: dict[str, object]) -> str | None:
    if action == "models.transition":
        to, came_from = details.get("to"), details.get("from")
        if to == "retired":
            return "model_version.retired"
        if to == "production":
            # a deprecated version going back to production is how a rollback looks in the table
            return "model_version.rolled_back" if came_from == "deprecated" else "model_version.promoted"
        return None
    return _MODEL_ACTIONS.get(action)


def event_of(action: str, target: str, details: dict[str, object]) -> Occurrence | None:
    """The webhook event an audit entry is, or None when it is none.

    Args:
        action: the entry's action, e.g. ``models.approve``.
        target: what it acted on, e.g. ``models:/fraud/3``.
        details: the entry's evidence (``from``/``to`` of a transition, an alias's version).
    """
    parsed = parse_target(target)
    if parsed is None:
        return None
    kind, subject, version, alias = parsed
    if kind == "deployment":
        event = _DEPLOYMENT_ACTIONS.get(action)
        return None if event is None else Occurrence(event, kind, subject)
    event = _model_event(action, details)
    if event is None:
        return None
    if alias is not None:
        found = details.get("version")
        version = found if isinstance(found, int) and not isinstance(found, bool) else None
    return Occurrence(event, kind, subject, version, alias)
