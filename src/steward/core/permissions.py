"""Who may do what: roles, their permissions and the one table of API operations.

Every route of the server appears in :data:`OPERATIONS`, keyed by its HTTP method and
path template (FastAPI's ``path_format``), with the permission it needs and where the
request's *project* comes from. The server checks this table in one place (a
dependency installed on the app); handlers never check permissions themselves, and a
test fails when a route has no entry.

A project is an experiment name or a registered-model name. A role binding grants a
role on one project (exact name) or on every project (``"*"``)::

    viewer       read experiments, runs, datasets, models
    contributor  viewer + log runs, register datasets and models
    reviewer     viewer + approve model versions, read the audit trail
    deployer     viewer + move versions between states, set aliases, change deployments
    admin        everything, including users, roles and policy overrides

Global administrators (``users.is_admin``) may do everything. Token scopes cap what a
token can do whatever its user's roles: ``read`` reaches only read permissions,
``write`` everything but administration, ``admin`` everything.

What is enforced per project: routes whose path names the project (``/models/{name}``),
an experiment (``/experiments/{experiment_id}``) or a run (``/runs/{run_id}``, resolved
to its experiment's name). Routes whose project is only in the body or the query (run
creation, searches, the MLflow-compatible API, datasets) are checked globally: the
caller needs the permission through at least one binding, on any project.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from steward.errors import InvalidInputError

__all__ = [
    "GLOBAL_PROJECT",
    "OPERATIONS",
    "PUBLIC_PATHS",
    "ROLE_PERMISSIONS",
    "SCOPES",
    "Operation",
    "Permission",
    "ProjectSource",
    "Role",
    "is_allowed",
    "parse_role",
    "parse_scopes",
    "scope_of",
]

GLOBAL_PROJECT = "*"
SCOPES = ("read", "write", "admin")


class Permission(str, enum.Enum):
    """What an operation needs."""

    PUBLIC = "public"  # no authentication at all
    ACCOUNT_READ = "account.read"  # any authenticated user, about themselves
    ACCOUNT_WRITE = "account.write"  # own tokens
    RUNS_READ = "runs.read"
    RUNS_WRITE = "runs.write"
    DATA_READ = "data.read"
    DATA_WRITE = "data.write"
    MODELS_READ = "models.read"
    MODELS_WRITE = "models.write"
    MODELS_APPROVE = "models.approve"
    MODELS_PROMOTE = "models.promote"
    DEPLOYMENTS_READ = "deployments.read"
    DEPLOYMENTS_WRITE = "deployments.write"
    AUDIT_READ = "audit.read"
    GOVERNANCE_ADMIN = "governance.admin"


class Role(str, enum.Enum):
    """Roles granted per project by a role binding."""

    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    DEPLOYER = "deployer"
    ADMIN = "admin"


P = Permission
_READ = frozenset({P.RUNS_READ, P.DATA_READ, P.MODELS_READ, P.DEPLOYMENTS_READ})

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.CONTRIBUTOR: _READ | {P.RUNS_WRITE, P.DATA_WRITE, P.MODELS_WRITE},
    Role.REVIEWER: _READ | {P.MODELS_APPROVE, P.AUDIT_READ},
    Role.DEPLOYER: _READ | {P.MODELS_PROMOTE, P.DEPLOYMENTS_WRITE},
    Role.ADMIN: frozenset(Permission) - {P.PUBLIC},
}


class ProjectSource(str, enum.Enum):
    """Where the project of a request is found."""

    NONE = "none"  # checked against the caller's bindings on any project
    GLOBAL = "global"  # only bindings on "*" count (administration)
    MODEL = "model"  # path parameter ``name`` is the model name
    EXPERIMENT = "experiment"  # path parameter ``experiment_id``
    RUN = "run"  # path parameter ``run_id``, resolved to its experiment


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation's requirement."""

    permission: Permission
    project: ProjectSource = ProjectSource.NONE


def _op(permission: Permission, project: ProjectSource = ProjectSource.NONE) -> Operation:
    return Operation(permission, project)


_N, _M, _E, _R, _G = ProjectSource.NONE, ProjectSource.MODEL, ProjectSource.EXPERIMENT, ProjectSource.RUN, ProjectSource.GLOBAL

# The MLflow-compatible API is served twice, under /api/2.0/mlflow and /ajax-api/2.0/mlflow
# (the MLflow UI's prefix); project names travel in the bodies, so checks are global.
_MLFLOW: list[tuple[str, str, Permission]] = [
    ("POST", "/experiments/create", P.RUNS_WRITE),
    ("GET", "/experiments/get", P.RUNS_READ),
    ("GET", "/experiments/get-by-name", P.RUNS_READ),
    ("POST", "/experiments/search", P.RUNS_READ),
    ("GET", "/experiments/search", P.RUNS_READ),
    ("POST", "/experiments/delete", P.RUNS_WRITE),
    ("POST", "/experiments/restore", P.RUNS_WRITE),
    ("POST", "/experiments/update", P.RUNS_WRITE),
    ("POST", "/experiments/set-experiment-tag", P.RUNS_WRITE),
    ("POST", "/runs/create", P.RUNS_WRITE),
    ("GET", "/runs/get", P.RUNS_READ),
    ("POST", "/runs/update", P.RUNS_WRITE),
    ("POST", "/runs/delete", P.RUNS_WRITE),
    ("POST", "/runs/restore", P.RUNS_WRITE),
    ("POST", "/runs/log-metric", P.RUNS_WRITE),
    ("POST", "/runs/log-parameter", P.RUNS_WRITE),
    ("POST", "/runs/set-tag", P.RUNS_WRITE),
    ("POST", "/runs/delete-tag", P.RUNS_WRITE),
    ("POST", "/runs/log-batch", P.RUNS_WRITE),
    ("POST", "/runs/log-inputs", P.RUNS_WRITE),
    ("POST", "/runs/search", P.RUNS_READ),
    ("GET", "/metrics/get-history", P.RUNS_READ),
    ("POST", "/logged-models/search", P.MODELS_READ),
]

_TABLE: list[tuple[str, str, Operation]] = [
    # public: liveness, readiness and the API description carry no data
    ("GET", "/healthz", _op(P.PUBLIC)),
    ("GET", "/readyz", _op(P.PUBLIC)),
    ("GET", "/openapi.json", _op(P.PUBLIC)),
    ("GET", "/docs", _op(P.PUBLIC)),
    ("GET", "/docs/oauth2-redirect", _op(P.PUBLIC)),
    ("GET", "/redoc", _op(P.PUBLIC)),
    # tracking
    ("POST", "/api/v1/experiments", _op(P.RUNS_WRITE)),
    ("GET", "/api/v1/experiments", _op(P.RUNS_READ)),
    ("GET", "/api/v1/experiments/{experiment_id}", _op(P.RUNS_READ, _E)),
    ("DELETE", "/api/v1/experiments/{experiment_id}", _op(P.RUNS_WRITE, _E)),
    ("POST", "/api/v1/runs", _op(P.RUNS_WRITE)),
    ("POST", "/api/v1/runs/search", _op(P.RUNS_READ)),
    ("GET", "/api/v1/runs", _op(P.RUNS_READ)),
    ("GET", "/api/v1/runs/{run_id}", _op(P.RUNS_READ, _R)),
    ("GET", "/api/v1/runs/{run_id}/failure", _op(P.RUNS_READ, _R)),
    ("PATCH", "/api/v1/runs/{run_id}", _op(P.RUNS_WRITE, _R)),
    ("DELETE", "/api/v1/runs/{run_id}", _op(P.RUNS_WRITE, _R)),
    ("POST", "/api/v1/runs/{run_id}/batch", _op(P.RUNS_WRITE, _R)),
    ("POST", "/api/v1/runs/{run_id}/inputs", _op(P.RUNS_WRITE, _R)),
    ("GET", "/api/v1/runs/{run_id}/metric-history", _op(P.RUNS_READ, _R)),
    ("GET", "/api/v1/runs/{run_id}/artifacts", _op(P.RUNS_READ, _R)),
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}", _op(P.RUNS_WRITE, _R)),
    ("GET", "/api/v1/runs/{run_id}/artifacts/{path}", _op(P.RUNS_READ, _R)),
    ("GET", "/api/v1/audit", _op(P.AUDIT_READ)),
    # MLflow artifact proxy: paths carry no checked project
    ("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path}", _op(P.RUNS_WRITE)),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", _op(P.RUNS_READ)),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts/{path}", _op(P.RUNS_READ)),
    # the MLflow catch-all only answers "endpoint not supported"; still, only for users
    *[(m, "/api/2.0/{service}", _op(P.RUNS_READ)) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")],
    # data
    ("POST", "/api/v1/datasets/{name}/versions", _op(P.DATA_WRITE)),
    ("GET", "/api/v1/datasets", _op(P.DATA_READ)),
    ("GET", "/api/v1/datasets/{name}/versions", _op(P.DATA_READ)),
    ("GET", "/api/v1/datasets/{name}/versions/{version}", _op(P.DATA_READ)),
    ("GET", "/api/v1/datasets/{name}/versions/{version}/lineage", _op(P.DATA_READ)),
    ("GET", "/api/v1/datasets/{name}/diff", _op(P.DATA_READ)),
    ("POST", "/api/v1/suites", _op(P.DATA_WRITE)),
    ("GET", "/api/v1/suites", _op(P.DATA_READ)),
    ("GET", "/api/v1/suites/{name}", _op(P.DATA_READ)),
    ("PUT", "/api/v1/suites/{name}", _op(P.DATA_WRITE)),
    ("GET", "/api/v1/suites/{name}/versions/{version}", _op(P.DATA_READ)),
    ("DELETE", "/api/v1/suites/{name}", _op(P.DATA_WRITE)),
    ("POST", "/api/v1/validations", _op(P.DATA_WRITE)),
    ("GET", "/api/v1/validations", _op(P.DATA_READ)),
    # registry
    ("POST", "/api/v1/models", _op(P.MODELS_WRITE)),
    ("GET", "/api/v1/models", _op(P.MODELS_READ)),
    ("GET", "/api/v1/model-versions", _op(P.MODELS_READ)),
    ("GET", "/api/v1/models/{name}", _op(P.MODELS_READ, _M)),
    ("PATCH", "/api/v1/models/{name}", _op(P.MODELS_WRITE, _M)),
    ("PUT", "/api/v1/models/{name}/tags", _op(P.MODELS_WRITE, _M)),
    ("DELETE", "/api/v1/models/{name}/tags/{key}", _op(P.MODELS_WRITE, _M)),
    ("POST", "/api/v1/models/{name}/versions", _op(P.MODELS_WRITE, _M)),
    ("GET", "/api/v1/models/{name}/versions", _op(P.MODELS_READ, _M)),
    ("GET", "/api/v1/models/{name}/resolve", _op(P.MODELS_READ, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}", _op(P.MODELS_READ, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}/files", _op(P.MODELS_READ, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}/files/{path}", _op(P.MODELS_READ, _M)),
    ("PUT", "/api/v1/models/{name}/aliases/{alias}", _op(P.MODELS_PROMOTE, _M)),
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}", _op(P.MODELS_PROMOTE, _M)),
    ("POST", "/api/v1/models/{name}/versions/{version}/transitions", _op(P.MODELS_PROMOTE, _M)),
    ("POST", "/api/v1/models/{name}/versions/{version}/approvals", _op(P.MODELS_APPROVE, _M)),
    ("PUT", "/api/v1/models/{name}/versions/{version}/tags", _op(P.MODELS_WRITE, _M)),
    ("DELETE", "/api/v1/models/{name}/versions/{version}/tags/{key}", _op(P.MODELS_WRITE, _M)),
    # evaluation (overrides also need a global administrator: the service checks)
    ("POST", "/api/v1/models/{name}/versions/{version}/evaluations", _op(P.MODELS_WRITE, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}/evaluations", _op(P.MODELS_READ, _M)),
    ("POST", "/api/v1/models/{name}/versions/{version}/gates", _op(P.MODELS_WRITE, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}/gates", _op(P.MODELS_READ, _M)),
    ("POST", "/api/v1/models/{name}/versions/{version}/gates/override", _op(P.MODELS_PROMOTE, _M)),
    ("GET", "/api/v1/models/{name}/versions/{version}/card", _op(P.MODELS_READ, _M)),
    ("PUT", "/api/v1/models/{name}/versions/{version}/card", _op(P.MODELS_WRITE, _M)),
    # governance
    ("GET", "/api/v1/whoami", _op(P.ACCOUNT_READ)),
    ("POST", "/api/v1/users", _op(P.GOVERNANCE_ADMIN, _G)),
    ("GET", "/api/v1/users", _op(P.GOVERNANCE_ADMIN, _G)),
    ("GET", "/api/v1/users/{name}", _op(P.GOVERNANCE_ADMIN, _G)),
    ("POST", "/api/v1/users/{name}/disable", _op(P.GOVERNANCE_ADMIN, _G)),
    # tokens: anyone manages their own; the service refuses other users' unless admin
    ("POST", "/api/v1/tokens", _op(P.ACCOUNT_WRITE)),
    ("GET", "/api/v1/tokens", _op(P.ACCOUNT_READ)),
    ("DELETE", "/api/v1/tokens/{token_id}", _op(P.ACCOUNT_WRITE)),
    ("POST", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, _G)),
    ("GET", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, _G)),
    ("DELETE", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, _G)),
    # secrets: only names and history ever leave the server; administrators manage them
    ("GET", "/api/v1/secrets", _op(P.GOVERNANCE_ADMIN, _G)),
    ("GET", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, _G)),
    ("PUT", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, _G)),
    ("DELETE", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, _G)),
]


def _build() -> dict[tuple[str, str], Operation]:
    table: dict[tuple[str, str], Operation] = {}
    rows = list(_TABLE)
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        rows += [(m, prefix + path, _op(perm)) for m, path, perm in _MLFLOW]
    for method, path, op in rows:
        if (method, path) in table:
            raise ValueError(f"duplicate permission entry {method} {path}")
        table[(method, path)] = op
    return table


# (method, path template) -> what the operation needs. The one permission table.
OPERATIONS: Mapping[tuple[str, str], Operation] = _build()

# Paths reachable without credentials (the auth layer lets them through before routing).
PUBLIC_PATHS: frozenset[str] = frozenset(p for (_m, p), op in OPERATIONS.items() if op.permission is P.PUBLIC)


def scope_of(permission: Permission) -> str:
    """The token scope a permission needs: ``read``, ``write`` or ``admin``."""
    if permission is P.GOVERNANCE_ADMIN:
        return "admin"
    if permission.value.endswith(".read"):
        return "read"
    return "write"


def _scope_allows(scopes: Iterable[str], permission: Permission) -> bool:
    have = set(scopes)
    need = scope_of(permission)
    if "admin" in have:
        return True
    if need == "read":
        return bool(have & {"read", "write"})
    return need == "write" and "write" in have


def is_allowed(
    *,
    is_admin: bool,
    scopes: Iterable[str],
    bindings: Iterable[tuple[str, Role]],
    permission: Permission,
    project: str | None,
    global_only: bool = False,
) -> bool:
    """Decide one request.

    Args:
        is_admin: the user is a global administrator.
        scopes: the scopes of the credential used (a password login has all three).
        bindings: the user's ``(project pattern, role)`` pairs.
        permission: what the operation needs.
        project: the request's project when known; ``None`` means any binding counts.
        global_only: only bindings on ``"*"`` count (administration routes).

    Returns:
        True when the request may proceed.
    """
    if permission is P.PUBLIC:
        return True
    if not _scope_allows(scopes, permission):
        return False
    if permission in (P.ACCOUNT_READ, P.ACCOUNT_WRITE) or is_admin:
        return True
    for pattern, role in bindings:
        if permission not in ROLE_PERMISSIONS[role]:
            continue
        if pattern == GLOBAL_PROJECT:
            return True
        if global_only:
            continue
        if project is None or pattern == project:
            return True
    return False


def parse_role(value: str) -> Role:
    """The role named ``value``.

    Raises:
        InvalidInputError: an unknown role (the message lists the roles).
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"unknown role {value[:40]!r}; roles: {roles}", field="role") from None


def parse_scopes(values: Iterable[str]) -> tuple[str, ...]:
    """Validated, de-duplicated token scopes in canonical order.

    Raises:
        InvalidInputError: an unknown scope or none at all.
    """
    given = {v.strip().lower() for v in values if v.strip()}
    unknown = given - set(SCOPES)
    if unknown:
        first = sorted(unknown)[0][:20]
        raise InvalidInputError(f"unknown scope {first!r}; scopes: {', '.join(SCOPES)}", field="scopes")
    if not given:
        raise InvalidInputError("a token needs at least one scope", field="scopes")
    return tuple(s for s in SCOPES if s in given)
