"""Evaluations stored with versions, gates against the champion, the promotion block and
its audited override, and model cards, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from evaluation_testing import World

from steward.errors import ConflictError, InvalidInputError, PermissionDeniedError
from steward.evaluation import EvaluationOptions, render_html, render_markdown
from steward.wiring import Services

POLICY = "min: {roc_auc: 0.7}\nbeat_champion: {metric: roc_auc, min_delta: 0.01}\nfairness: {attribute: sex, max_demographic_parity_difference: 0.3}\n"


def test_an_evaluation_is_stored_with_the_version_and_audited(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    record = ev.evaluate(f"fraud:{world.strong}", world.holdout, EvaluationOptions("label", slices=("sex",), sensitive="sex", measure_latency=False))
    assert record.id > 0 and record.dataset_ref == world.holdout and record.dataset_hash
    assert record.report["metrics"]["roc_auc"] > 0.8
    assert {s["slice"] for s in record.report["slices"]} == {"f", "m"}
    assert record.report["fairness"]["demographic_parity_difference"] is not None
    assert record.report["explanation"]["permutation_importance"]["features"][0]["feature"] == "amount"
    stored = ev.list_evaluations(f"fraud:{world.strong}")
    assert [r.id for r in stored] == [record.id] and stored[0].report == record.report
    audit = [e for e in services.store.list_audit(target=f"models:/fraud/{world.strong}") if e.action == "models.evaluate"]
    assert len(audit) == 1 and audit[0].details["evaluation_id"] == record.id


def test_the_challenger_passes_a_gate_against_the_champion_on_the_same_dataset_version(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    gate = ev.gate(f"fraud:{world.strong}", world.holdout, POLICY, target="label", measure_latency=False)
    assert gate.passed, [c for c in gate.checks if not c.passed]
    assert gate.champion_version == world.weak
    assert gate.evaluation_id is not None and gate.champion_evaluation_id is not None
    mine, theirs = ev.store.get_evaluation(gate.evaluation_id), ev.store.get_evaluation(gate.champion_evaluation_id)
    assert mine.dataset_ref == theirs.dataset_ref == world.holdout and mine.dataset_hash == theirs.dataset_hash
    beat = next(c for c in gate.checks if c.gate == "beat_champion.roc_auc")
    assert beat.observed == pytest.approx(mine.report["metrics"]["roc_auc"] - theirs.report["metrics"]["roc_auc"])
    assert ev.list_gates(f"fraud:{world.strong}")[0].id == gate.id


def test_a_failed_gate_blocks_production_until_an_admin_overrides_it_with_a_reason(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    failing = "min: {roc_auc: 0.99}\n"
    gate = ev.gate(f"fraud:{world.strong}", world.holdout, failing, target="label", measure_latency=False)
    assert not gate.passed and gate.checks[0].gate == "min.roc_auc" and gate.checks[0].threshold == 0.99
    registry = services.registry("tester")
    registry.approve("fraud", world.strong, comment="looks right")
    with pytest.raises(ConflictError, match=r"failed its gate \(min.roc_auc\)") as blocked:
        registry.transition("fraud", world.strong, "production")
    assert blocked.value.field == "gate"
    assert registry.get_version("fraud", world.strong).state.value == "approved"

    # not an admin: refused, nothing stored
    with pytest.raises(PermissionDeniedError, match="only an administrator"):
        ev.override(f"fraud:{world.strong}", "the business accepts the lower AUC this quarter")
    services.governance("root").create_user("boss", "boss@example.com", is_admin=True)
    admin = services.evaluation("boss")
    with pytest.raises(InvalidInputError, match="written reason"):
        admin.override(f"fraud:{world.strong}", "ok")
    assert not ev.store.latest_gate_result("fraud", world.strong).overridden  # type: ignore[union-attr]

    waived = admin.override(f"fraud:{world.strong}", "the business accepts the lower AUC this quarter")
    assert waived.actor == "boss" and waived.gate_result_id == gate.id
    audit = [e for e in services.store.list_audit(target=f"models:/fraud/{world.strong}") if e.action == "models.gate_override"]
    assert len(audit) == 1 and audit[0].actor == "boss" and "lower AUC" in str(audit[0].details["reason"])
    assert registry.transition("fraud", world.strong, "production").state.value == "production"


def test_overriding_a_passed_gate_is_refused(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    ev.gate(f"fraud:{world.strong}", world.holdout, "min: {accuracy: 0.5}\n", target="label", measure_latency=False)
    services.governance("root").create_user("boss", "boss@example.com", is_admin=True)
    with pytest.raises(ConflictError, match="nothing to override"):
        services.evaluation("boss").override(f"fraud:{world.strong}", "no reason to do this at all")


def test_a_gate_with_a_bad_policy_stores_nothing(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    with pytest.raises(InvalidInputError, match="unknown metric 'auc'"):
        ev.gate(f"fraud:{world.strong}", world.holdout, "min: {auc: 0.8}\n", target="label")
    assert ev.list_gates(f"fraud:{world.strong}") == [] and ev.list_evaluations("fraud") == []


def test_the_model_card_renders_markdown_and_self_contained_html(services: Services, world: World) -> None:
    ev = services.evaluation("tester")
    ref = f"fraud:{world.strong}"
    ev.set_card_fields(ref, {"intended_use": "Scoring card payments <for review>", "limitations": "Trained on one month only"})
    ev.gate(ref, world.holdout, POLICY, target="label", slices=("sex",), measure_latency=False)
    services.registry("tester").approve("fraud", world.strong, comment="reviewed")
    card = ev.card(ref)
    assert card["owner"] == "tester" and card["lineage"]["run_id"]
    assert card["parameters"] == {"features": "amount,count"}
    assert card["gate"]["passed"] and card["evaluation"]["slices"]
    assert [h["action"] for h in card["history"]][:1] == ["models.create_version"]
    assert any(h["action"] == "models.approve" for h in card["history"])
    md = render_markdown(card)
    assert "## Intended use" in md and "Scoring card payments" in md and "## Fairness across sex" in md and "## History" in md
    page = render_html(card)
    assert "<style>" in page and "&lt;for review&gt;" in page
    assert not re.search(r"""(src|href)\s*=|https?://|<script|<link|@import""", page)
    with pytest.raises(InvalidInputError, match="unknown card field 'purpose'"):
        ev.set_card_fields(ref, {"purpose": "x"})
