"""The lifecycle table: every pair of states, allowed or refused, pure and through the store."""

from __future__ import annotations

import itertools

import pytest
from registry_testing import fitted_logistic, log_and_register

from steward import Client
from steward.core.lifecycle import TRANSITIONS, ModelState, allowed_transitions, check_transition
from steward.errors import ConflictError, InvalidInputError
from steward.registry import RegistryService

PAIRS = list(itertools.product(ModelState, ModelState))
VALID = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
INVALID = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]

# A shortest way from candidate to each state, through allowed transitions only.
PATH_TO = {
    ModelState.CANDIDATE: [],
    ModelState.APPROVED: [ModelState.APPROVED],
    ModelState.PRODUCTION: [ModelState.APPROVED, ModelState.PRODUCTION],
    ModelState.DEPRECATED: [ModelState.APPROVED, ModelState.DEPRECATED],
    ModelState.RETIRED: [ModelState.RETIRED],
}


@pytest.mark.parametrize(("current", "target"), VALID, ids=lambda s: s.value)
def test_allowed_transitions_pass_the_check(current: ModelState, target: ModelState) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), INVALID, ids=lambda s: s.value)
def test_refused_transitions_name_the_allowed_ones(current: ModelState, target: ModelState) -> None:
    with pytest.raises(ConflictError) as info:
        check_transition(current, target)
    allowed = [s.value for s in allowed_transitions(current)]
    assert f"allowed from {current.value}: " in info.value.message
    for name in allowed:
        assert name in info.value.message.split("allowed from")[1]
    if not allowed:
        assert "final" in info.value.message


def test_retired_is_final_and_every_state_reaches_retired_or_is_it() -> None:
    assert TRANSITIONS[ModelState.RETIRED] == frozenset()
    for state in ModelState:
        seen, todo = {state}, [state]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert ModelState.RETIRED in seen


def _walk(registry: RegistryService, version: int, path: list[ModelState]) -> None:
    for state in path:
        if state is ModelState.APPROVED:
            registry.approve("fraud", version, comment="looks good")
        else:
            registry.transition("fraud", version, state)


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    # every pair on SQLite keeps this file fast; the store tests cover PostgreSQL
    return f"sqlite:///{tmp_path}/steward.db"


@pytest.mark.parametrize("current", list(ModelState), ids=lambda s: s.value)
def test_every_transition_through_the_registry_is_applied_or_refused_unchanged(
    client: Client, registry: RegistryService, current: ModelState
) -> None:
    model, frame = fitted_logistic()
    first = log_and_register(client, model, frame)
    audit = registry.store._store.list_audit  # type: ignore[attr-defined]
    for target in ModelState:
        # a fresh version of the same run for each target: registering is cheap, logging is not
        version = first.version if target is ModelState.CANDIDATE else registry.create_version("fraud", first.run_id).version
        _walk(registry, version, PATH_TO[current])
        assert registry.get_version("fraud", version).state is current
        if target in TRANSITIONS[current]:
            if target is ModelState.PRODUCTION and not registry.get_version("fraud", version).approvals:
                registry.approve("fraud", version, comment="needed before production")
            assert registry.transition("fraud", version, target).state is target
        else:
            before = len(audit(target="models:/fraud"))
            with pytest.raises(ConflictError, match=f"allowed from {current.value}"):
                registry.transition("fraud", version, target)
            assert registry.get_version("fraud", version).state is current
            assert len(audit(target="models:/fraud")) == before


def test_an_unknown_state_is_invalid_input_listing_the_states(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    version = log_and_register(client, model, frame).version
    with pytest.raises(InvalidInputError, match="candidate, approved, production, deprecated, retired"):
        registry.transition("fraud", version, "shipped")
