"""The pure permission table: roles, scopes and decisions."""

from __future__ import annotations

import pytest

from steward.core.permissions import (
    OPERATIONS,
    PUBLIC_PATHS,
    ROLE_PERMISSIONS,
    ObjectKind,
    Permission,
    Role,
    Source,
    is_allowed,
    new_project,
    parse_role,
    parse_scopes,
    scope_of,
)
from steward.errors import InvalidInputError

ALL = ("read", "write", "admin")


def test_only_health_readiness_and_the_api_description_are_public() -> None:
    # "/" is the web UI's index (the page itself asks for a login: steward/ui)
    assert PUBLIC_PATHS == {"/", "/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_mlflow_operation_is_in_the_table_under_both_prefixes() -> None:
    api = {p.removeprefix("/api/2.0/mlflow") for _m, p in OPERATIONS if p.startswith("/api/2.0/mlflow/")}
    ajax = {p.removeprefix("/ajax-api/2.0/mlflow") for _m, p in OPERATIONS if p.startswith("/ajax-api/2.0/mlflow/")}
    assert api == ajax and "/runs/log-batch" in api


def test_roles_grant_what_the_issue_describes() -> None:
    assert Permission.RUNS_WRITE in ROLE_PERMISSIONS[Role.CONTRIBUTOR]
    assert Permission.MODELS_APPROVE not in ROLE_PERMISSIONS[Role.CONTRIBUTOR]
    assert Permission.MODELS_APPROVE in ROLE_PERMISSIONS[Role.REVIEWER]
    assert Permission.DEPLOYMENTS_WRITE in ROLE_PERMISSIONS[Role.DEPLOYER]
    assert Permission.RUNS_WRITE not in ROLE_PERMISSIONS[Role.VIEWER]
    assert Permission.GOVERNANCE_ADMIN in ROLE_PERMISSIONS[Role.ADMIN]
    assert all(ROLE_PERMISSIONS[Role.VIEWER] <= perms for perms in ROLE_PERMISSIONS.values())


def test_a_binding_on_one_project_does_not_reach_another() -> None:
    bindings = [("fraud", Role.CONTRIBUTOR)]
    assert is_allowed(is_admin=False, scopes=ALL, bindings=bindings, permission=Permission.MODELS_WRITE, project="fraud")
    assert not is_allowed(is_admin=False, scopes=ALL, bindings=bindings, permission=Permission.MODELS_WRITE, project="churn")
    # unknown project: the global check (any binding) decides
    assert is_allowed(is_admin=False, scopes=ALL, bindings=bindings, permission=Permission.RUNS_WRITE, project=None)


def test_administration_needs_a_binding_on_every_project_not_just_one() -> None:
    one = [("fraud", Role.ADMIN)]
    every = [("*", Role.ADMIN)]
    kwargs = {"is_admin": False, "scopes": ALL, "permission": Permission.GOVERNANCE_ADMIN, "project": "*", "global_only": True}
    assert not is_allowed(bindings=one, **kwargs)  # type: ignore[arg-type]
    assert is_allowed(bindings=every, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scopes", "permission", "allowed"),
    [
        (("read",), Permission.RUNS_READ, True),
        (("read",), Permission.RUNS_WRITE, False),
        (("read",), Permission.ACCOUNT_WRITE, False),
        (("write",), Permission.RUNS_READ, True),
        (("write",), Permission.GOVERNANCE_ADMIN, False),
        (("admin",), Permission.GOVERNANCE_ADMIN, True),
    ],
)
def test_token_scopes_cap_even_a_global_administrator(scopes: tuple[str, ...], permission: Permission, allowed: bool) -> None:
    assert is_allowed(is_admin=True, scopes=scopes, bindings=[], permission=permission, project=None) is allowed


def test_every_permission_has_a_scope() -> None:
    assert {scope_of(p) for p in Permission} == {"read", "write", "admin"}


def test_roles_and_scopes_are_parsed_with_errors_naming_the_field() -> None:
    assert parse_role(" Reviewer ") is Role.REVIEWER
    assert parse_scopes(["write", "read", "read"]) == ("read", "write")
    with pytest.raises(InvalidInputError) as info:
        parse_role("owner")
    assert info.value.field == "role" and "viewer" in info.value.message
    with pytest.raises(InvalidInputError):
        parse_scopes(["root"])
    with pytest.raises(InvalidInputError):
        parse_scopes([])


def test_path_references_name_parameters_the_routes_have() -> None:
    for (_method, path), op in OPERATIONS.items():
        for ref in op.refs:
            if ref.source is Source.PATH:
                assert any("{" + f + "}" in path for f in ref.fields), path


def test_every_operation_either_names_its_objects_or_is_a_listing_account_or_global_operation() -> None:
    # a new route cannot enter the table without saying how its project is found
    for key, op in OPERATIONS.items():
        kinds = {Permission.PUBLIC, Permission.ACCOUNT_READ, Permission.ACCOUNT_WRITE}
        assert op.refs or op.listing or op.global_only or op.permission in kinds, key


def test_a_new_object_belongs_to_the_requested_project_or_to_its_own_name() -> None:
    assert new_project("fraud-exp", None) == "fraud-exp"
    assert new_project("fraud-exp", "fraud") == "fraud"
    for bad in ("*", "a\x00b", " padded", "x" * 251):
        with pytest.raises(InvalidInputError) as info:
            new_project("n", bad)
        assert info.value.field == "project"
    assert ObjectKind.ARTIFACT.value == "artifact"


def test_the_governance_package_exports_exactly_its_public_names() -> None:
    from steward import governance

    public = {
        name
        for name, value in vars(governance).items()
        if not name.startswith("_") and str(getattr(value, "__module__", "")).startswith("steward.governance")
    }
    assert public <= set(governance.__all__)
    assert all(hasattr(governance, name) for name in governance.__all__)
