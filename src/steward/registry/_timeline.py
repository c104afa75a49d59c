"""One ordered, audited history per registered model: a read model over the audit trail.

Every change Steward makes is recorded in the hash-chained audit trail in the same
transaction as the change, so the timeline reads it rather than keeping a copy: the
entries whose target is the model (``models:/fraud``, ``models:/fraud/3``,
``models:/fraud@champion``), the runs its versions were registered from (with the dataset
versions they used), every deployment that ever served one of its versions, and the
alert rules on those deployments. The chain's entry ids give one total order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.errors import InvalidInputError, NotFoundError

from ._ports import TimelineEntry, TimelineStore
from ._refs import check_model_name

__all__ = ["Timeline", "TimelineEvent", "TimelineService"]

MAX_EVENTS = 10_000

# audit action -> what the timeline calls it
_KINDS = {
    "models.create": "model registered",
    "models.import_version": "version imported",
    "models.create_version": "version registered",
    "models.update_version": "version updated",
    "models.delete_version": "version deleted",
    "models.delete": "model deleted",
    "models.evaluate": "evaluated",
    "models.gate": "gate",
    "models.gate_override": "gate overridden",
    "models.approve": "approved",
    "models.transition": "state changed",
    "models.set_alias": "alias set",
    "models.delete_alias": "alias removed",
    "runs.create": "run started",
    "runs.log_inputs": "data used",
    "runs.end": "run ended",
    "alerts.fire": "alert fired",
    "alerts.resolve": "alert resolved",
    # model stewardship (issue 13): owners, the lifecycle pipeline, retirement, rollback drills
    "models.set_owner": "owner set",
    "models.retrain.start": "retraining started",
    "models.retrain.validate": "data validated",
    "models.retrain.trained": "retrained",
    "models.retrain.candidate": "candidate registered",
    "models.retrain.awaiting_approval": "awaiting approval",
    "models.retrain.resume": "retraining resumed",
    "models.retrain.end": "retraining ended",
    "model_version.retire": "retirement recorded",
    "deployments.drill": "rollback drill",
    "deployments.rollout.start": "canary started",
    "deployments.rollout.advance": "rollout advanced",
    "deployments.rollout.promote": "promoted",
    "deployments.rollout.rollback": "rolled back",
}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event of a model's history.

    Attributes:
        entry_id: the audit entry (its position in the hash chain; ``steward audit verify``
            checks it was not altered).
        timestamp: when, in ms since the epoch (UTC).
        actor: who (a user, or the process that acted for one).
        action: the audit action, e.g. ``models.approve`` or ``deployments.rollback``.
        kind: a short readable name for it, e.g. ``approved``.
        target: what it acted on: ``models:/fraud/3``, ``runs:/<id>``, ``deployments:/fraud-api``.
        versions: the model's versions it concerns (empty when it concerns the whole model).
        details: the evidence the audit entry holds (gate results, variants and weights, reasons).
    """

    entry_id: int
    timestamp: int
    actor: str
    action: str
    kind: str
    target: str
    versions: tuple[int, ...]
    details: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "timestamp": self.timestamp,
            "actor": self.actor,
            "action": self.action,
            "kind": self.kind,
            "target": self.target,
            "versions": list(self.versions),
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    """A model's events in chain order; ``next_after`` pages on (None at the end)."""

    model: str
    events: tuple[TimelineEvent, ...]
    next_after: int | None

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "events": [e.to_dict() for e in self.events], "next_after": self.next_after}


def _kind(action: str, details: dict[str, object]) -> str:
    if action == "models.transition" and details.get("to") == "retired":
        return "retired"
    if action in _KINDS:
        return _KINDS[action]
    stage, _, verb = action.partition(".")
    if stage == "deployments":
        return f"deployment {verb.replace('_', ' ')}"
    if stage == "models" and verb.endswith("_retired"):
        return "retired"
    if stage == "alerts":
        return f"alert {verb.replace('.', ' ').replace('_', ' ')}"
    return action


def _version_of(ref: object, name: str) -> int | None:
    """The version number in ``fraud:3`` or ``models:/fraud/3`` when it names ``name``."""
    text = str(ref)
    if text.startswith("models:/"):
        model, _, rest = text[len("models:/"):].partition("/")
    else:
        model, _, rest = text.partition(":")
    rest = rest.split("/", 1)[0]
    return int(rest) if model == name and rest.isdigit() else None


def _versions(entry: TimelineEntry, name: str, runs: dict[str, list[int]]) -> tuple[int, ...]:
    found: set[int] = set()
    own = _version_of(entry.target, name)
    if own is not None:
        found.add(own)
    if entry.target.startswith("runs:/"):
        found.update(runs.get(entry.target[len("runs:/"):].split("/", 1)[0], ()))
    version = entry.details.get("version")
    if entry.target.startswith(f"models:/{name}@") and isinstance(version, int):
        found.add(version)
    variants = entry.details.get("variants")
    if isinstance(variants, list):
        for v in variants:
            n = _version_of(v.get("model"), name) if isinstance(v, dict) else None
            if n is not None:
                found.add(n)
    return tuple(sorted(found))


class TimelineService:
    """Reads the history of a registered model.

    Args:
        store: where the audit trail and the registry live.

    Example:
        >>> Client().timeline.get_timeline("fraud").events[0].kind  # doctest: +SKIP
        'model registered'
    """

    def __init__(self, store: TimelineStore) -> None:
        self.store = store

    def get_timeline(self, name: str, *, after: int = 0, max_results: int = 1000) -> Timeline:
        """The model's events past audit entry ``after``, oldest first.

        Args:
            name: the registered model.
            after: an entry id from an earlier page's ``next_after`` (0: from the start).
            max_results: at most this many events (1 to 10,000).

        Returns:
            The events in chain order, and where the next page starts.

        Raises:
            NotFoundError: no registered model has that name.
            InvalidInputError: a bad name or bound.
        """
        check_model_name(name)
        if not 1 <= max_results <= MAX_EVENTS:
            raise InvalidInputError(f"max_results must be 1 to {MAX_EVENTS}", field="max_results")
        if after < 0:
            raise InvalidInputError("after must be 0 or an entry id", field="after")
        if not self.store.model_exists(name):
            raise NotFoundError(f"registered model {name!r} not found")
        runs = self.store.version_runs(name)
        entries = self.store.timeline_entries(name, after=after, limit=max_results + 1)
        more = len(entries) > max_results
        entries = entries[:max_results]
        events = tuple(
            TimelineEvent(e.entry_id, e.timestamp, e.actor, e.action, _kind(e.action, e.details), e.target, _versions(e, name, runs), e.details)
            for e in entries
        )
        return Timeline(name, events, entries[-1].entry_id if more and entries else None)
