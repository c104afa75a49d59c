"""The deployments service on SQLite and PostgreSQL: plans, refusals with their reasons,
history and audit of every change."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from deployments_testing import Versions, register_versions

from steward import Client, Settings
from steward.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from steward.serving import DeploymentService
from steward.wiring import Services


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


@pytest.fixture
def versions(client: Client, services: Services) -> Versions:
    return register_versions(client, services)


@pytest.fixture
def deploy(services: Services, versions: Versions) -> DeploymentService:
    return services.deployments("dana")


def _weights(service: DeploymentService, name: str) -> dict[str, tuple[str, float, bool]]:
    return {v.name: (v.model, v.weight, v.shadow) for v in service.get_plan(name).variants}


def test_creating_a_deployment_resolves_the_alias_and_records_who_and_why(deploy: DeploymentService, services: Services) -> None:
    created = deploy.create_deployment("fraud-api", "fraud@champion", reason="first release")
    assert created.plan.revision == 1
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 100.0, False)}
    assert created.project == "fraud"
    [entry] = deploy.list_history("fraud-api")
    assert (entry.action, entry.actor, entry.reason) == ("create", "dana", "first release")
    assert entry.details["primary"] == {"ref": "fraud@champion", "resolved": "fraud:1"}
    audit = services.store.list_audit(target="deployments:/fraud-api")
    assert [(a.action, a.actor) for a in audit] == [("deployments.create", "dana")]
    assert audit[0].details["reason"] == "first release"
    with pytest.raises(AlreadyExistsError):
        deploy.create_deployment("fraud-api", "fraud:2")


def test_canary_ab_shadow_and_switch_build_their_plans(deploy: DeploymentService) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    deploy.canary("fraud-api", "fraud:2", percent=10, reason="try it")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 90.0, False), "candidate": ("fraud:2", 10.0, False)}
    plan = deploy.ab("fraud-api", "fraud:2", split=50, sticky_key="customer_id").plan
    assert plan.sticky_key == "customer_id" and plan.revision == 3
    assert _weights(deploy, "fraud-api")["candidate"] == ("fraud:2", 50.0, False)
    deploy.shadow("fraud-api", "fraud:2")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 100.0, False), "shadow": ("fraud:2", 0.0, True)}
    deploy.switch("fraud-api", "fraud:2", reason="blue-green")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:2", 100.0, False), "previous": ("fraud:1", 0.0, False)}
    deploy.rollback("fraud-api", reason="instant")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 100.0, False)}
    actions = [e.action for e in deploy.list_history("fraud-api")]
    assert actions == ["rollback", "switch", "shadow", "ab", "canary", "create"]


def test_promote_makes_the_candidate_primary_and_keeps_the_old_one_as_previous(deploy: DeploymentService) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    deploy.canary("fraud-api", "fraud:2", percent=25)
    deploy.promote("fraud-api", reason="metrics fine")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:2", 100.0, False), "previous": ("fraud:1", 0.0, False)}
    deploy.rollback("fraud-api")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 100.0, False)}
    with pytest.raises(ConflictError, match="nothing to roll back"):
        deploy.rollback("fraud-api")
    with pytest.raises(ConflictError, match="no candidate or shadow"):
        deploy.promote("fraud-api")


@pytest.mark.parametrize(
    ("attr", "reason"),
    [
        ("retired", "retired and cannot be deployed"),
        ("unapproved", "has no approval and approval is required"),
        ("gate_failed", "failed its gate"),
    ],
)
def test_a_version_that_may_not_serve_is_refused_with_the_reason_and_nothing_changes(
    deploy: DeploymentService, versions: Versions, services: Services, attr: str, reason: str
) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    version = getattr(versions, attr)
    for change in (
        lambda: deploy.canary("fraud-api", f"fraud:{version}", percent=10),
        lambda: deploy.switch("fraud-api", f"fraud:{version}"),
        lambda: deploy.ab("fraud-api", f"fraud:{version}", split=50),
    ):
        with pytest.raises(ConflictError, match=reason):
            change()
    with pytest.raises(ConflictError, match=reason):
        deploy.create_deployment("other-api", f"fraud:{version}")
    assert deploy.get_plan("fraud-api").revision == 1
    assert [a.action for a in services.store.list_audit(target="deployments:/fraud-api")] == ["deployments.create"]


def test_a_shadow_may_be_unapproved_but_never_retired(deploy: DeploymentService, versions: Versions) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    deploy.shadow("fraud-api", f"fraud:{versions.unapproved}")
    with pytest.raises(ConflictError, match="retired"):
        deploy.shadow("fraud-api", f"fraud:{versions.retired}")


def test_without_required_approval_an_unapproved_version_may_serve(services: Services, versions: Versions) -> None:
    relaxed = Services(services.settings.model_copy(update={"require_approval": False}), services.store, services.blobs)
    deploy = relaxed.deployments("dana")
    deploy.create_deployment("fraud-api", f"fraud:{versions.unapproved}")
    assert deploy.get_plan("fraud-api").variants[0].model == "fraud:3"


def test_a_version_that_fails_to_load_is_refused_and_the_deployment_stays(
    deploy: DeploymentService, services: Services, client: Client
) -> None:
    from pathlib import Path

    from sklearn.tree import DecisionTreeClassifier

    deploy.create_deployment("fraud-api", "fraud:1")
    frame = pd.DataFrame({"amount": [0.1, 0.5, -1.0, 2.0], "count": [1, 2, 3, 4]})
    with client.start_run("serving-tests") as run:
        logged = run.log_model(DecisionTreeClassifier().fit(frame, [0, 1, 0, 1]), "broken", input_example=frame, registered_model_name="fraud")
    version = logged.registered.version
    services.registry("reviewer").approve("fraud", version, comment="ok")
    # damage the stored model data of that version (a blob no other version shares): loading checks every hash
    files = services.tracking("x").list_artifacts(logged.registered.run_id, logged.registered.artifact_path)
    target = next(f for f in files if f.path.endswith(".skops"))
    Path(services.blobs._path(target.digest)).write_bytes(b"not a model")
    with pytest.raises(InvalidInputError, match=f"fraud:{version} failed to load"):
        deploy.switch("fraud-api", f"fraud:{version}")
    assert _weights(deploy, "fraud-api") == {"primary": ("fraud:1", 100.0, False)}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: d.create_deployment("Fraud API", "fraud:1"), "name"),
        (lambda d: d.create_deployment("-bad", "fraud:1"), "name"),
        (lambda d: d.create_deployment("x" * 64, "fraud:1"), "name"),
        (lambda d: d.canary("fraud-api", "fraud:2", percent=0), "percent"),
        (lambda d: d.canary("fraud-api", "fraud:2", percent=100), "percent"),
        (lambda d: d.ab("fraud-api", "fraud:2", split=50, sticky_key="a b"), "sticky_key"),
        (lambda d: d.canary("fraud-api", "not a ref!", percent=5), "model"),
        (lambda d: d.canary("fraud-api", "fraud:2", percent=5, reason="x" * 3000), "reason"),
    ],
)
def test_bad_input_names_the_field(deploy: DeploymentService, call: object, field: str) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    with pytest.raises(InvalidInputError) as caught:
        call(deploy)  # type: ignore[operator]
    assert caught.value.field == field


def test_unknown_deployments_and_versions_are_not_found(deploy: DeploymentService) -> None:
    with pytest.raises(NotFoundError):
        deploy.get_plan("nope")
    with pytest.raises(NotFoundError):
        deploy.canary("nope", "fraud:2", percent=5)
    deploy.create_deployment("fraud-api", "fraud:1")
    with pytest.raises(NotFoundError):
        deploy.canary("fraud-api", "fraud:99", percent=5)


def test_deleting_keeps_the_history_and_frees_the_name(deploy: DeploymentService) -> None:
    deploy.create_deployment("fraud-api", "fraud:1")
    deploy.delete_deployment("fraud-api", reason="decommissioned")
    with pytest.raises(NotFoundError):
        deploy.get_deployment("fraud-api")
    assert [e.action for e in deploy.list_history("fraud-api")] == ["delete", "create"]
    assert deploy.deployment_project("fraud-api") is None
    deploy.create_deployment("fraud-api", "fraud:2")
    assert deploy.deployment_project("fraud-api") == "fraud"
