"""Lifecycle of a model version: its states and the only transitions allowed between them.

::

    candidate -> approved -> production -> deprecated -> retired
        |           |                          |
        +-----------+------> retired <---------+        deprecated -> production (roll back)

``retired`` is terminal: a retired version is never served again.
"""

from __future__ import annotations

import enum

from steward.errors import ConflictError, InvalidInputError

__all__ = ["TRANSITIONS", "ModelState", "allowed_transitions", "check_transition", "parse_state"]


class ModelState(str, enum.Enum):
    """Where a model version stands in its life."""

    CANDIDATE = "candidate"
    APPROVED = "approved"
    PRODUCTION = "production"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


# The one transition table; the registry, the REST API and the CLI all consult it.
TRANSITIONS: dict[ModelState, frozenset[ModelState]] = {
    ModelState.CANDIDATE: frozenset({ModelState.APPROVED, ModelState.RETIRED}),
    ModelState.APPROVED: frozenset({ModelState.PRODUCTION, ModelState.DEPRECATED, ModelState.RETIRED}),
    ModelState.PRODUCTION: frozenset({ModelState.DEPRECATED}),
    # a deprecated version may go back to production: that is how a rollback looks
    ModelState.DEPRECATED: frozenset({ModelState.PRODUCTION, ModelState.RETIRED}),
    ModelState.RETIRED: frozenset(),
}


def parse_state(value: str, *, field: str = "state") -> ModelState:
    """Read a state name.

    Raises:
        InvalidInputError: the name is not a state; the message lists the states.
    """
    try:
        return ModelState(str(value).strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in ModelState)
        raise InvalidInputError(f"unknown state {str(value)[:40]!r}; states are: {names}", field=field) from None


def allowed_transitions(state: ModelState) -> list[ModelState]:
    """The states ``state`` may move to, in lifecycle order."""
    order = list(ModelState)
    return sorted(TRANSITIONS[state], key=order.index)


def check_transition(current: ModelState, target: ModelState) -> None:
    """Refuse a transition the table does not hold.

    Raises:
        ConflictError: the message names the transitions allowed from ``current``.
    """
    if target in TRANSITIONS[current]:
        return
    allowed = ", ".join(s.value for s in allowed_transitions(current)) or "none (it is final)"
    raise ConflictError(
        f"cannot move a version from {current.value} to {target.value}; allowed from {current.value}: {allowed}",
        field="state",
    )
