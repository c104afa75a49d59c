"""The registry on SQLite and PostgreSQL: registering, aliases under concurrency, approvals,
retired versions, and bad input that must leave nothing changed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from registry_testing import fitted_logistic, log_and_register

from steward import Client
from steward.core import RunStatus
from steward.errors import ConflictError, InvalidInputError, NotFoundError
from steward.registry import RegistryService
from steward.wiring import Services


def _count_audit(registry: RegistryService, target: str = "models:/") -> int:
    return len(registry.store._store.list_audit(target=target, limit=100_000))  # type: ignore[attr-defined]


def test_a_registered_version_links_its_run_datasets_metrics_and_signature(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    with client.start_run("e") as run:
        run.log_input("datasets:/transactions/3")
        run.log_metric("auc", 0.93)
        run.log_model(model, "fraud", input_example=frame.head(5))
    version = registry.create_version("fraud", run.run_id)
    assert (version.version, version.run_id, version.flavor) == (1, run.run_id, "sklearn")
    assert version.datasets == ["datasets:/transactions/3"]
    assert version.metrics == {"auc": 0.93}
    assert [c["name"] for c in version.signature["inputs"]] == ["amount", "count", "score"]
    assert any(r.startswith("scikit-learn==") for r in version.requirements)
    assert registry.create_version("fraud", run.run_id).version == 2
    assert registry.get_model("fraud").latest_version == 2


def test_registering_from_an_unknown_run_is_not_found_and_stores_nothing(registry: RegistryService) -> None:
    before = _count_audit(registry)
    with pytest.raises(NotFoundError, match="run") as info:
        registry.create_version("fraud", "0" * 32)
    assert info.value.field == "run_id"
    with pytest.raises(NotFoundError):
        registry.get_model("fraud")
    assert _count_audit(registry) == before


def test_registering_from_a_failed_run_is_a_conflict_and_stores_nothing(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    with pytest.raises(RuntimeError), client.start_run("e") as run:
        run.log_model(model, "fraud", input_example=frame.head(5))
        raise RuntimeError("training crashed")
    assert client.get_run(run.run_id).status is RunStatus.FAILED
    before = _count_audit(registry)
    with pytest.raises(ConflictError, match="failed"):
        registry.create_version("fraud", run.run_id)
    assert registry.list_models().models == []
    assert _count_audit(registry) == before


def test_registering_a_run_without_a_model_names_the_path(client: Client, registry: RegistryService) -> None:
    with client.start_run("e") as run:
        run.log_metric("auc", 0.5)
    with pytest.raises(NotFoundError, match="models/fraud"):
        registry.create_version("fraud", run.run_id)
    assert registry.list_models().models == []


@pytest.mark.parametrize("bad", ["Fraud/1", "-x", "a" * 64, "has space", ""])
def test_malformed_model_names_are_refused(registry: RegistryService, bad: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        registry.create_model(bad)
    assert info.value.field == "name"


def test_production_needs_an_approval_when_the_policy_is_on(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    v = log_and_register(client, model, frame).version
    registry.transition("fraud", v, "approved")  # reachable without an approval row...
    with pytest.raises(ConflictError, match="needs an approval"):
        registry.transition("fraud", v, "production")  # ...but production is not
    assert registry.get_version("fraud", v).state.value == "approved"
    with pytest.raises(InvalidInputError, match="comment"):
        registry.approve("fraud", v, comment="  ")
    approved = registry.approve("fraud", v, comment="holdout AUC 0.93")
    assert [(a.approver, a.comment) for a in approved.approvals] == [("tester", "holdout AUC 0.93")]
    assert registry.transition("fraud", v, "production").state.value == "production"


def test_without_the_approval_policy_production_needs_no_approval(client: Client, services: Services) -> None:
    relaxed = Services(services.settings.model_copy(update={"require_approval": False}), services.store, services.blobs)
    registry = relaxed.registry("tester")
    model, frame = fitted_logistic()
    v = log_and_register(client, model, frame).version
    registry.transition("fraud", v, "approved")
    assert registry.transition("fraud", v, "production").state.value == "production"


def test_an_alias_moves_in_one_step_and_references_resolve(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    first = log_and_register(client, model, frame)
    second = registry.create_version("fraud", first.run_id)
    registry.set_alias("fraud", "champion", 1)
    assert registry.resolve("models:/fraud@champion").version == 1
    moved = registry.set_alias("fraud", "champion", 2)
    assert moved.aliases == ["champion"]
    assert registry.get_version("fraud", 1).aliases == []
    assert registry.get_model("fraud").aliases == {"champion": 2}
    assert registry.resolve("fraud:1").version == 1
    assert registry.resolve("models:/fraud/2").version == second.version
    assert registry.resolve("fraud").version == 2
    registry.approve("fraud", 1, comment="ok")
    registry.transition("fraud", 1, "production")
    assert registry.resolve("fraud/production").version == 1
    registry.delete_alias("fraud", "champion")
    with pytest.raises(NotFoundError, match="champion"):
        registry.resolve("fraud@champion")
    with pytest.raises(NotFoundError):
        registry.set_alias("fraud", "champion", 99)
    with pytest.raises(InvalidInputError, match="reserved"):
        registry.set_alias("fraud", "production", 1)


def test_concurrent_alias_moves_leave_exactly_one_target(client: Client, registry: RegistryService, services: Services) -> None:
    model, frame = fitted_logistic()
    first = log_and_register(client, model, frame)
    for _ in range(5):
        registry.create_version("fraud", first.run_id)
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def mover(version: int) -> None:
        mine = services.registry(f"mover-{version}")
        barrier.wait()
        try:
            for _ in range(10):
                mine.set_alias("fraud", "champion", version)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=mover, args=(v,)) for v in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    holders = [v.version for v in registry.list_versions("fraud").versions if "champion" in v.aliases]
    assert len(holders) == 1
    assert registry.get_model("fraud").aliases == {"champion": holders[0]}
    assert _count_audit(registry, "models:/fraud@champion") == 60


def test_a_retired_version_loads_only_with_the_flag_and_that_is_audited(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    v = log_and_register(client, model, frame)
    registry.retire("fraud", v.version, comment="superseded")
    with pytest.raises(ConflictError, match="allow_retired"):
        registry.load("fraud:1")
    with pytest.raises(ConflictError, match="cannot be deployed"):
        registry.check_deployable(registry.get_version("fraud", 1))
    assert _count_audit(registry, "models:/fraud/1") == 2  # created, retired
    predictor = registry.load("fraud:1", allow_retired=True)
    assert list(predictor.predict(frame.head(3))) == list(model.predict(frame.head(3)))
    actions = [e.action for e in registry.store._store.list_audit(target="models:/fraud/1")]  # type: ignore[attr-defined]
    assert actions[-1] == "models.load_retired"


def test_tags_on_models_and_versions_are_set_and_deleted(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    log_and_register(client, model, frame)
    registry.set_model_tag("fraud", "team", "risk")
    registry.set_version_tag("fraud", 1, "validated", "yes")
    assert registry.get_model("fraud").tags == {"team": "risk"}
    assert registry.get_version("fraud", 1).tags == {"validated": "yes"}
    registry.delete_version_tag("fraud", 1, "validated")
    with pytest.raises(NotFoundError):
        registry.delete_version_tag("fraud", 1, "validated")


def test_search_pages_through_versions_by_prefix_state_and_run(client: Client, registry: RegistryService) -> None:
    model, frame = fitted_logistic()
    run_id = log_and_register(client, model, frame, name="fraud-a").run_id
    for name in ("fraud-a", "fraud-b", "churn"):
        registry.create_version(name, run_id, artifact_path="models/fraud-a")
    page = registry.search_versions(name_prefix="fraud", max_results=2)
    rest = registry.search_versions(name_prefix="fraud", max_results=2, page_token=page.next_page_token)
    assert [(v.name, v.version) for v in page.versions + rest.versions] == [("fraud-a", 2), ("fraud-a", 1), ("fraud-b", 1)]
    assert rest.next_page_token is None
    assert len(registry.search_versions(run_id=run_id).versions) == 4
    assert registry.search_versions(state="production").versions == []
    with pytest.raises(InvalidInputError):
        registry.search_versions(max_results=0)


def test_packaging_into_a_non_empty_folder_is_refused(client: Client, registry: RegistryService, tmp_path: Path) -> None:
    model, frame = fitted_logistic()
    log_and_register(client, model, frame)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="not empty"):
        registry.package("fraud:1", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]
