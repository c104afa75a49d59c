"""Who may do what: roles, their permissions and the one table of API operations.

Every route of the server appears in :data:`OPERATIONS`, keyed by its HTTP method and
path template (FastAPI's ``path_format``), with the permission it needs and where the
request's *project* comes from. The server checks this table in one place (a
dependency installed on the app); handlers never check permissions themselves, and a
test fails when a route has no entry.

A *project* is the unit of access. Every stored object belongs to exactly one:

    experiment        its ``project`` (set at creation; default: the experiment's name)
    run, artifact     its experiment's project
    registered model  its ``project`` (set at creation; default: the model's name)
    model version, alias, evaluation, gate, card   its model's project
    dataset           its ``project`` (set at creation; default: the dataset's name)
    dataset version, validation result            its dataset's project
    validation suite  its ``project`` (set at creation; default: the suite's name)
    deployment        its ``project`` (default: its model's project)
    feature view      its ``project`` (set at creation; default: the view's name)

A project never changes after creation (renaming an experiment keeps it). A role binding
grants a role on one project (exact name) or on every project (``"*"``)::

    viewer       read experiments, runs, datasets, models
    contributor  viewer + log runs, register datasets and models
    reviewer     viewer + approve model versions, read the audit trail
    deployer     viewer + move versions between states, set aliases, change deployments
    admin        everything, including users, roles and policy overrides

Global administrators (``users.is_admin``) may do everything. Token scopes cap what a
token can do whatever its user's roles: ``read`` reaches only read permissions,
``write`` everything but administration, ``admin`` everything.

Each operation names the objects it touches (:class:`Ref`: in the path, the query or the
JSON body); the server resolves each to its project and checks the caller's permission
there, on every one. A reference to something that does not exist is checked against the
caller's bindings on any project, so the route answers 404 to a caller who could read it
if it existed. Listing operations return only objects of projects the caller may read.
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
    "PROJECT_TAG",
    "SCOPES",
    "ObjectKind",
    "Operation",
    "Permission",
    "Ref",
    "Role",
    "Source",
    "is_allowed",
    "new_project",
    "parse_role",
    "parse_scopes",
    "readable_projects",
    "requested_project",
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


class ObjectKind(str, enum.Enum):
    """What a request names, and so how its project is found."""

    EXPERIMENT = "experiment"  # an experiment id (MLflow's "0" is the experiment ``Default``)
    EXPERIMENT_NAME = "experiment_name"  # an experiment name; a new one gets the request's project
    RUN = "run"  # a run id: the project of its experiment
    ARTIFACT = "artifact"  # an MLflow artifact path ``<experiment_id>/<run_id>/artifacts/...``: its run
    # (``<experiment_id>/models/<model_id>/artifacts/...``: its logged model)
    LOGGED_MODEL = "logged_model"  # an MLflow 3 logged model id (``m-...``): the project of its experiment
    MODEL = "model"  # a registered-model name; a new one gets the request's project
    MODEL_REF = "model_ref"  # ``fraud:3``, ``fraud@champion``, ``models:/fraud/3``: its model
    DATASET = "dataset"  # a dataset name; a new one gets the request's project
    DATASET_REF = "dataset_ref"  # ``transactions:3``, ``datasets:/transactions/3``: its dataset
    SUITE = "suite"  # a validation suite name or ``name:version``; a new one gets the request's project
    SUITE_DOCUMENT = "suite_document"  # a suite's YAML text: the suite it names
    DEPLOYMENT = "deployment"  # a deployment name; a new one gets its model's project
    MONITOR = "monitor"  # a monitor name: the project of the deployment it watches
    FEATURE_VIEW = "feature_view"  # a feature view name; a new one gets the request's project
    FEATURE_REF = "feature_ref"  # ``view:feature`` (or a view name): its view
    # an MLflow model version's source (runs:/<run_id>/..., mlflow-artifacts:/<exp>/<run_id>/artifacts/...,
    # models:/m-<id>): the project of the run (or logged model) whose files it names
    MODEL_SOURCE = "model_source"
    UPLOAD = "upload"  # an upload session id: the project of the dataset it is for
    TRIGGER = "trigger"  # a trigger name; a new one gets the request's project (default: its name)
    PROJECT = "project"  # a project name itself (a webhook subscribes to one project)
    WEBHOOK = "webhook"  # a webhook name: the project it subscribes to


class Source(str, enum.Enum):
    """Where in the request a reference is found."""

    PATH = "path"
    QUERY = "query"
    BODY = "body"  # a top-level field of the JSON body


@dataclass(frozen=True, slots=True)
class Ref:
    """One object a request touches.

    Attributes:
        kind: what the value names.
        source: where the value is.
        fields: the field names to look in, first present wins (MLflow's ``run_id`` / ``run_uuid``).
        permission: what the caller needs on that object's project (default: the operation's).
        many: the field holds a list; each element is checked.
    """

    kind: ObjectKind
    source: Source
    fields: tuple[str, ...]
    permission: Permission | None = None
    many: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation's requirement.

    Attributes:
        permission: what the operation needs.
        refs: the objects it touches; the caller needs the permission on each one's project.
        listing: its answer lists objects: only those in projects the caller may read are
            returned (filtered in the query).
        global_only: only global administrators and bindings on ``"*"`` count (administration).
    """

    permission: Permission
    refs: tuple[Ref, ...] = ()
    listing: bool = False
    global_only: bool = False


def _op(permission: Permission, *refs: Ref, listing: bool = False, global_only: bool = False) -> Operation:
    return Operation(permission, tuple(refs), listing, global_only)


def _path(kind: ObjectKind, field: str, permission: Permission | None = None) -> Ref:
    return Ref(kind, Source.PATH, (field,), permission)


def _query(kind: ObjectKind, *fields: str, permission: Permission | None = None, many: bool = False) -> Ref:
    return Ref(kind, Source.QUERY, fields, permission, many)


def _body(kind: ObjectKind, *fields: str, permission: Permission | None = None, many: bool = False) -> Ref:
    return Ref(kind, Source.BODY, fields, permission, many)


K = ObjectKind
_EXP, _EXP_NAME, _RUN, _MODEL, _DATASET, _SUITE = K.EXPERIMENT, K.EXPERIMENT_NAME, K.RUN, K.MODEL, K.DATASET, K.SUITE
_MODEL_PATH = _path(_MODEL, "name")
_DATASET_PATH = _path(_DATASET, "name")
_RUN_PATH = _path(_RUN, "run_id")

# The MLflow-compatible API is served twice, under /api/2.0/mlflow and /ajax-api/2.0/mlflow
# (the MLflow UI's prefix); its ids travel in the query (GET) or the JSON body (POST).
_RUN_Q = _query(_RUN, "run_id", "run_uuid")
_RUN_B = _body(_RUN, "run_id", "run_uuid")
_EXP_B = _body(_EXP, "experiment_id")
_LOGGED_MODEL = _path(K.LOGGED_MODEL, "model_id")
_MLFLOW: list[tuple[str, str, Operation]] = [
    ("POST", "/experiments/create", _op(P.RUNS_WRITE, _body(_EXP_NAME, "name"))),
    ("GET", "/experiments/get", _op(P.RUNS_READ, _query(_EXP, "experiment_id"))),
    ("GET", "/experiments/get-by-name", _op(P.RUNS_READ, _query(_EXP_NAME, "experiment_name"))),
    ("POST", "/experiments/search", _op(P.RUNS_READ, listing=True)),
    ("GET", "/experiments/search", _op(P.RUNS_READ, listing=True)),
    ("POST", "/experiments/delete", _op(P.RUNS_WRITE, _EXP_B)),
    ("POST", "/experiments/restore", _op(P.RUNS_WRITE, _EXP_B)),
    # renaming moves nothing between projects: the project is kept, only the name changes
    ("POST", "/experiments/update", _op(P.RUNS_WRITE, _EXP_B)),
    ("POST", "/experiments/set-experiment-tag", _op(P.RUNS_WRITE, _EXP_B)),
    ("POST", "/runs/create", _op(P.RUNS_WRITE, _EXP_B)),
    ("GET", "/runs/get", _op(P.RUNS_READ, _RUN_Q)),
    ("POST", "/runs/update", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/delete", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/restore", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/log-metric", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/log-parameter", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/set-tag", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/delete-tag", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/log-batch", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/log-inputs", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/search", _op(P.RUNS_READ, _body(_EXP, "experiment_ids", many=True), listing=True)),
    ("GET", "/metrics/get-history", _op(P.RUNS_READ, _RUN_Q)),
    ("POST", "/logged-models/search", _op(P.MODELS_READ, _body(_EXP, "experiment_ids", many=True), listing=True)),
    # MLflow's model registry (server/mlflow/_registry.py): the same permissions as Steward's
    # own registry routes; GET sends the name in the query, the rest in the JSON body
    ("POST", "/registered-models/create", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("GET", "/registered-models/get", _op(P.MODELS_READ, _query(_MODEL, "name"))),
    ("GET", "/registered-models/search", _op(P.MODELS_READ, listing=True)),
    ("PATCH", "/registered-models/update", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    # deleting is refused by the registry for any model with a version past candidate
    ("DELETE", "/registered-models/delete", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("POST", "/registered-models/set-tag", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("DELETE", "/registered-models/delete-tag", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("GET", "/registered-models/alias", _op(P.MODELS_READ, _query(_MODEL, "name"))),
    ("POST", "/registered-models/alias", _op(P.MODELS_PROMOTE, _body(_MODEL, "name"))),
    ("DELETE", "/registered-models/alias", _op(P.MODELS_PROMOTE, _body(_MODEL, "name"))),
    ("GET", "/registered-models/get-latest-versions", _op(P.MODELS_READ, _query(_MODEL, "name"))),
    ("POST", "/registered-models/get-latest-versions", _op(P.MODELS_READ, _body(_MODEL, "name"))),
    # a version is made of a run's files: write the model, read the run its source names
    ("POST", "/model-versions/create", _op(
        P.MODELS_WRITE, _body(_MODEL, "name"), _body(_RUN, "run_id", permission=P.RUNS_READ),
        _body(K.MODEL_SOURCE, "source", permission=P.RUNS_READ))),
    ("GET", "/model-versions/get", _op(P.MODELS_READ, _query(_MODEL, "name"))),
    ("GET", "/model-versions/search", _op(P.MODELS_READ, listing=True)),
    ("PATCH", "/model-versions/update", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("DELETE", "/model-versions/delete", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("POST", "/model-versions/transition-stage", _op(P.MODELS_PROMOTE, _body(_MODEL, "name"))),
    ("GET", "/model-versions/get-download-uri", _op(P.MODELS_READ, _query(_MODEL, "name"))),
    ("POST", "/model-versions/set-tag", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("DELETE", "/model-versions/delete-tag", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    # MLflow 3's logged models live in an experiment: its project; a new one also reads its run
    ("POST", "/logged-models", _op(
        P.MODELS_WRITE, _EXP_B, _body(_RUN, "source_run_id", permission=P.RUNS_READ))),
    ("GET", "/logged-models/{model_id}", _op(P.MODELS_READ, _LOGGED_MODEL)),
    ("PATCH", "/logged-models/{model_id}", _op(P.MODELS_WRITE, _LOGGED_MODEL)),
    ("DELETE", "/logged-models/{model_id}", _op(P.MODELS_WRITE, _LOGGED_MODEL)),
    ("PATCH", "/logged-models/{model_id}/tags", _op(P.MODELS_WRITE, _LOGGED_MODEL)),
    ("DELETE", "/logged-models/{model_id}/tags/{tag_key}", _op(P.MODELS_WRITE, _LOGGED_MODEL)),
    ("POST", "/logged-models/{model_id}/params", _op(P.MODELS_WRITE, _LOGGED_MODEL)),
    # linking a run to its models: the service keeps each model in the run's experiment
    ("POST", "/runs/outputs", _op(P.RUNS_WRITE, _RUN_B)),
    ("POST", "/runs/log-model", _op(P.RUNS_WRITE, _RUN_B)),
]

_MLFLOW_ARTIFACT = _path(K.ARTIFACT, "path")
_DEPLOYMENT_PATH = _path(K.DEPLOYMENT, "name")  # serving issue: resolved by the store's deployment_project
_MONITOR_PATH = _path(K.MONITOR, "name")  # monitoring issue: the monitor's (its deployment's) project

_TABLE: list[tuple[str, str, Operation]] = [
    # public: liveness, readiness and the API description carry no data
    ("GET", "/healthz", _op(P.PUBLIC)),
    ("GET", "/readyz", _op(P.PUBLIC)),
    ("GET", "/openapi.json", _op(P.PUBLIC)),
    ("GET", "/docs", _op(P.PUBLIC)),
    ("GET", "/docs/oauth2-redirect", _op(P.PUBLIC)),
    ("GET", "/redoc", _op(P.PUBLIC)),
    # the index redirects to /docs: the mlflow client prints "View run at" links to it
    ("GET", "/", _op(P.PUBLIC)),
    # tracking
    ("POST", "/api/v1/experiments", _op(P.RUNS_WRITE, _body(_EXP_NAME, "name"))),
    ("GET", "/api/v1/experiments", _op(P.RUNS_READ, listing=True)),
    ("GET", "/api/v1/experiments/{experiment_id}", _op(P.RUNS_READ, _path(_EXP, "experiment_id"))),
    ("DELETE", "/api/v1/experiments/{experiment_id}", _op(P.RUNS_WRITE, _path(_EXP, "experiment_id"))),
    ("POST", "/api/v1/runs", _op(P.RUNS_WRITE, _body(_EXP, "experiment_id"))),
    ("POST", "/api/v1/runs/search", _op(P.RUNS_READ, _body(_EXP_NAME, "experiments", many=True), listing=True)),
    ("GET", "/api/v1/runs", _op(P.RUNS_READ, _query(_EXP_NAME, "experiment", many=True), listing=True)),
    ("GET", "/api/v1/runs/{run_id}", _op(P.RUNS_READ, _RUN_PATH)),
    ("GET", "/api/v1/runs/{run_id}/failure", _op(P.RUNS_READ, _RUN_PATH)),
    ("PATCH", "/api/v1/runs/{run_id}", _op(P.RUNS_WRITE, _RUN_PATH)),
    ("DELETE", "/api/v1/runs/{run_id}", _op(P.RUNS_WRITE, _RUN_PATH)),
    ("POST", "/api/v1/runs/{run_id}/batch", _op(P.RUNS_WRITE, _RUN_PATH)),
    # a run's calls in one request: the run (new or not) and, when it creates, its experiment
    ("POST", "/api/v1/runs/batch", _op(P.RUNS_WRITE, _body(_RUN, "run_id"), _EXP_B)),
    ("POST", "/api/v1/runs/{run_id}/inputs", _op(P.RUNS_WRITE, _RUN_PATH)),
    ("GET", "/api/v1/runs/{run_id}/metric-history", _op(P.RUNS_READ, _RUN_PATH)),
    ("GET", "/api/v1/runs/{run_id}/artifacts", _op(P.RUNS_READ, _RUN_PATH)),
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}", _op(P.RUNS_WRITE, _RUN_PATH)),
    ("GET", "/api/v1/runs/{run_id}/artifacts/{path}", _op(P.RUNS_READ, _RUN_PATH)),
    # the audit trail spans every project: administrators and reviewers on "*"
    ("GET", "/api/v1/audit", _op(P.AUDIT_READ, global_only=True)),
    # verifying and exporting read every row and its hashes: administrators only
    ("GET", "/api/v1/audit/verify", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("GET", "/api/v1/audit/export", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # MLflow's artifact proxy: the path names an experiment and a run
    ("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path}", _op(P.RUNS_WRITE, _MLFLOW_ARTIFACT)),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", _op(P.RUNS_READ, _query(K.ARTIFACT, "path"))),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts/{path}", _op(P.RUNS_READ, _MLFLOW_ARTIFACT)),
    # the MLflow catch-all only answers "endpoint not supported" and touches nothing
    *[(m, "/api/2.0/{service}", _op(P.ACCOUNT_READ)) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")],
    # data
    # a version from a finished upload names it in the query (never read from the body: a raw upload streams)
    ("POST", "/api/v1/datasets/{name}/versions", _op(P.DATA_WRITE, _DATASET_PATH, _query(K.UPLOAD, "upload_id"))),
    ("GET", "/api/v1/datasets", _op(P.DATA_READ, listing=True)),
    ("GET", "/api/v1/datasets/{name}/versions", _op(P.DATA_READ, _DATASET_PATH)),
    ("GET", "/api/v1/datasets/{name}/versions/{version}", _op(P.DATA_READ, _DATASET_PATH)),
    # lineage names runs: only those the caller may read are listed
    ("GET", "/api/v1/datasets/{name}/versions/{version}/lineage", _op(P.DATA_READ, _DATASET_PATH, listing=True)),
    ("GET", "/api/v1/datasets/{name}/diff", _op(P.DATA_READ, _DATASET_PATH)),
    ("POST", "/api/v1/suites", _op(P.DATA_WRITE, _body(K.SUITE_DOCUMENT, "yaml"))),
    ("GET", "/api/v1/suites", _op(P.DATA_READ, _query(_SUITE, "name"), listing=True)),
    ("GET", "/api/v1/suites/{name}", _op(P.DATA_READ, _path(_SUITE, "name"))),
    ("PUT", "/api/v1/suites/{name}", _op(P.DATA_WRITE, _path(_SUITE, "name"))),
    ("GET", "/api/v1/suites/{name}/versions/{version}", _op(P.DATA_READ, _path(_SUITE, "name"))),
    ("DELETE", "/api/v1/suites/{name}", _op(P.DATA_WRITE, _path(_SUITE, "name"))),
    # a validation is stored with its dataset: write there, read the suite
    ("POST", "/api/v1/validations", _op(
        P.DATA_WRITE, _body(K.DATASET_REF, "dataset"), _body(_SUITE, "suite", permission=P.DATA_READ))),
    ("GET", "/api/v1/validations", _op(P.DATA_READ, _query(K.DATASET_REF, "dataset"), listing=True)),
    # resumable uploads: opened for a dataset (its project; a new one gets the requested
    # project), then appended to and finished by their owner only (the service checks)
    ("POST", "/api/v1/uploads", _op(P.DATA_WRITE, _body(_DATASET, "dataset"))),
    ("GET", "/api/v1/uploads/{upload_id}", _op(P.DATA_WRITE, _path(K.UPLOAD, "upload_id"))),
    ("PUT", "/api/v1/uploads/{upload_id}", _op(P.DATA_WRITE, _path(K.UPLOAD, "upload_id"))),
    ("DELETE", "/api/v1/uploads/{upload_id}", _op(P.DATA_WRITE, _path(K.UPLOAD, "upload_id"))),
    # importing (an MLflow export uploaded in chunks) writes runs and models of any project
    ("POST", "/api/v1/imports", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("POST", "/api/v1/imports/{upload_id}", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # any reference form (name@hash, a bare hash prefix, ...), a diff across datasets, the data itself
    ("GET", "/api/v1/dataset-versions", _op(P.DATA_READ, _query(K.DATASET_REF, "ref"))),
    ("GET", "/api/v1/dataset-diff", _op(P.DATA_READ, _query(K.DATASET_REF, "a"), _query(K.DATASET_REF, "b"))),
    ("GET", "/api/v1/datasets/{name}/versions/{version}/data", _op(P.DATA_READ, _DATASET_PATH)),
    # registry
    ("POST", "/api/v1/models", _op(P.MODELS_WRITE, _body(_MODEL, "name"))),
    ("GET", "/api/v1/models", _op(P.MODELS_READ, listing=True)),
    ("GET", "/api/v1/model-versions", _op(P.MODELS_READ, _query(_MODEL, "name"), listing=True)),
    ("GET", "/api/v1/models/{name}", _op(P.MODELS_READ, _MODEL_PATH)),
    ("PATCH", "/api/v1/models/{name}", _op(P.MODELS_WRITE, _MODEL_PATH)),
    ("PUT", "/api/v1/models/{name}/tags", _op(P.MODELS_WRITE, _MODEL_PATH)),
    ("DELETE", "/api/v1/models/{name}/tags/{key}", _op(P.MODELS_WRITE, _MODEL_PATH)),
    # a version is made of a run's files: write the model, read the run
    ("POST", "/api/v1/models/{name}/versions", _op(
        P.MODELS_WRITE, _MODEL_PATH, _body(_RUN, "run_id", permission=P.RUNS_READ))),
    ("GET", "/api/v1/models/{name}/versions", _op(P.MODELS_READ, _MODEL_PATH)),
    # the model's history (registry, gates, its runs, deployments that served it, their alerts)
    ("GET", "/api/v1/models/{name}/timeline", _op(P.MODELS_READ, _MODEL_PATH)),
    # the reference may name another model than the path: its project is checked too
    ("GET", "/api/v1/models/{name}/resolve", _op(P.MODELS_READ, _MODEL_PATH, _query(K.MODEL_REF, "ref"))),
    ("GET", "/api/v1/models/{name}/versions/{version}", _op(P.MODELS_READ, _MODEL_PATH)),
    ("GET", "/api/v1/models/{name}/versions/{version}/files", _op(P.MODELS_READ, _MODEL_PATH)),
    ("GET", "/api/v1/models/{name}/versions/{version}/files/{path}", _op(P.MODELS_READ, _MODEL_PATH)),
    ("PUT", "/api/v1/models/{name}/aliases/{alias}", _op(P.MODELS_PROMOTE, _MODEL_PATH)),
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}", _op(P.MODELS_PROMOTE, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/versions/{version}/transitions", _op(P.MODELS_PROMOTE, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/versions/{version}/approvals", _op(P.MODELS_APPROVE, _MODEL_PATH)),
    ("PUT", "/api/v1/models/{name}/versions/{version}/tags", _op(P.MODELS_WRITE, _MODEL_PATH)),
    ("DELETE", "/api/v1/models/{name}/versions/{version}/tags/{key}", _op(P.MODELS_WRITE, _MODEL_PATH)),
    # evaluation reads a dataset version besides the model (overrides also need a global
    # administrator: the service checks)
    ("POST", "/api/v1/models/{name}/versions/{version}/evaluations", _op(
        P.MODELS_WRITE, _MODEL_PATH, _body(K.DATASET_REF, "data", permission=P.DATA_READ))),
    ("GET", "/api/v1/models/{name}/versions/{version}/evaluations", _op(P.MODELS_READ, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/versions/{version}/gates", _op(
        P.MODELS_WRITE, _MODEL_PATH, _body(K.DATASET_REF, "data", permission=P.DATA_READ))),
    ("GET", "/api/v1/models/{name}/versions/{version}/gates", _op(P.MODELS_READ, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/versions/{version}/gates/override", _op(P.MODELS_PROMOTE, _MODEL_PATH)),
    ("GET", "/api/v1/models/{name}/versions/{version}/card", _op(P.MODELS_READ, _MODEL_PATH)),
    ("PUT", "/api/v1/models/{name}/versions/{version}/card", _op(P.MODELS_WRITE, _MODEL_PATH)),
    # governance
    ("GET", "/api/v1/whoami", _op(P.ACCOUNT_READ)),
    ("POST", "/api/v1/users", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("GET", "/api/v1/users", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("GET", "/api/v1/users/{name}", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("POST", "/api/v1/users/{name}/disable", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # tokens: anyone manages their own; the service refuses other users' unless admin
    ("POST", "/api/v1/tokens", _op(P.ACCOUNT_WRITE)),
    ("GET", "/api/v1/tokens", _op(P.ACCOUNT_READ)),
    ("DELETE", "/api/v1/tokens/{token_id}", _op(P.ACCOUNT_WRITE)),
    ("POST", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("GET", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("DELETE", "/api/v1/roles", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # deployments (serving issue): reads need deployments.read and traffic changes
    # deployments.write (deployer, admin) on the deployment's project (its store's
    # deployment_project) and on the project of the model version a change brings in
    # serving-time feature lookup reads the declared views: data.read on each view's project too
    ("POST", "/api/v1/deployments", _op(
        P.DEPLOYMENTS_WRITE, _body(K.MODEL_REF, "model"), _body(K.FEATURE_REF, "features", permission=P.DATA_READ, many=True))),
    ("PUT", "/api/v1/deployments/{name}/features", _op(
        P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH, _body(K.FEATURE_REF, "features", permission=P.DATA_READ, many=True))),
    ("GET", "/api/v1/deployments", _op(P.DEPLOYMENTS_READ, listing=True)),
    ("GET", "/api/v1/deployments/{name}", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    ("DELETE", "/api/v1/deployments/{name}", _op(P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH)),
    *[
        ("POST", f"/api/v1/deployments/{{name}}/{verb}", _op(P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH, _body(K.MODEL_REF, "model")))
        for verb in ("canary", "ab", "shadow", "switch", "rollout")
    ],
    ("POST", "/api/v1/deployments/{name}/promote", _op(P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH)),
    ("POST", "/api/v1/deployments/{name}/rollback", _op(P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH)),
    ("GET", "/api/v1/deployments/{name}/rollout", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    ("GET", "/api/v1/deployments/{name}/history", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    # model stewardship (issue 13): owner and on-call of a model, retirement, rollback drills
    ("GET", "/api/v1/models/{name}/owner", _op(P.MODELS_READ, _MODEL_PATH)),
    ("PUT", "/api/v1/models/{name}/owner", _op(P.MODELS_WRITE, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/lifecycle-stages", _op(P.MODELS_WRITE, _MODEL_PATH)),
    ("POST", "/api/v1/models/{name}/versions/{version}/retire", _op(P.MODELS_PROMOTE, _MODEL_PATH)),
    ("GET", "/api/v1/models/{name}/versions/{version}/retirement", _op(P.MODELS_READ, _MODEL_PATH)),
    ("POST", "/api/v1/deployments/{name}/drills", _op(P.DEPLOYMENTS_WRITE, _DEPLOYMENT_PATH)),
    ("GET", "/api/v1/deployments/{name}/drills/last", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    # prediction log (serving issue): the log belongs to its deployment's project; reading it
    # needs deployments.read there; attaching ground truth needs models.write there (the
    # contributors who build the model bring its labels; deployers only move traffic)
    ("GET", "/api/v1/deployments/{name}/predictions", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    ("GET", "/api/v1/deployments/{name}/prediction-segments", _op(P.DEPLOYMENTS_READ, _DEPLOYMENT_PATH)),
    ("POST", "/api/v1/deployments/{name}/labels", _op(P.MODELS_WRITE, _DEPLOYMENT_PATH)),
    # monitors (monitoring issue): a monitor belongs to its deployment's project; reading
    # needs deployments.read there; creating, running and deleting needs models.write (the
    # contributors who build the model watch it), and the reference dataset data.read
    ("POST", "/api/v1/monitors", _op(
        P.MODELS_WRITE, _body(K.DEPLOYMENT, "deployment"), _body(K.DATASET_REF, "reference", permission=P.DATA_READ)
    )),
    ("GET", "/api/v1/monitors", _op(P.DEPLOYMENTS_READ, listing=True)),
    ("GET", "/api/v1/monitors/{name}", _op(P.DEPLOYMENTS_READ, _MONITOR_PATH)),
    ("POST", "/api/v1/monitors/{name}/run", _op(P.MODELS_WRITE, _MONITOR_PATH)),
    ("DELETE", "/api/v1/monitors/{name}", _op(P.MODELS_WRITE, _MONITOR_PATH)),
    # alerts (monitoring issue): a rule belongs to no one project (it may watch no
    # deployment), so reading alert state is a global read; /metrics carries only rule
    # names and states, but those can name deployments and features, so it is not public
    ("GET", "/metrics", _op(P.DEPLOYMENTS_READ, global_only=True)),
    ("GET", "/api/v1/alerts", _op(P.DEPLOYMENTS_READ, global_only=True)),
    ("GET", "/api/v1/alerts/{name}", _op(P.DEPLOYMENTS_READ, global_only=True)),
    # feature store (issue 12): a feature view belongs to its project (set at creation; default:
    # the view's name). Reading definitions and online values needs data.read there (a lookup
    # names its views by ``view:feature``: each one is checked); applying a definition and
    # materialising it need data.write
    ("POST", "/api/v1/features/views", _op(P.DATA_WRITE, _body(K.FEATURE_VIEW, "name"))),
    ("GET", "/api/v1/features/views", _op(P.DATA_READ, listing=True)),
    ("GET", "/api/v1/features/views/{name}", _op(P.DATA_READ, _path(K.FEATURE_VIEW, "name"))),
    ("POST", "/api/v1/features/views/{name}/materialize", _op(P.DATA_WRITE, _path(K.FEATURE_VIEW, "name"))),
    ("POST", "/api/v1/features/online", _op(P.DATA_READ, _body(K.FEATURE_REF, "features", many=True))),
    ("GET", "/api/v1/features/online", _op(P.DATA_READ, _query(K.FEATURE_REF, "feature", many=True))),
    # webhooks (issue 13): a subscription belongs to the project whose registry and deployment
    # events it receives; its URL and delivery log are configuration of that project, so
    # reading and managing both need models.write there (contributors; a viewer cannot)
    ("POST", "/api/v1/webhooks", _op(P.MODELS_WRITE, _body(K.PROJECT, "project"))),
    ("GET", "/api/v1/webhooks", _op(P.MODELS_WRITE, listing=True)),
    ("GET", "/api/v1/webhooks/{name}", _op(P.MODELS_WRITE, _path(K.WEBHOOK, "name"))),
    ("DELETE", "/api/v1/webhooks/{name}", _op(P.MODELS_WRITE, _path(K.WEBHOOK, "name"))),
    ("GET", "/api/v1/webhooks/{name}/deliveries", _op(P.MODELS_WRITE, _path(K.WEBHOOK, "name"))),
    ("POST", "/api/v1/webhooks/{name}/test", _op(P.MODELS_WRITE, _path(K.WEBHOOK, "name"))),
    ("POST", "/api/v1/webhooks/{name}/deliveries/{delivery_id}/redeliver", _op(P.MODELS_WRITE, _path(K.WEBHOOK, "name"))),
    # one round of the delivery worker (the server runs it on its own; this drives it now)
    ("POST", "/api/v1/webhook-deliveries/run", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # triggers (issue 13): a trigger belongs to its project (set at creation; default: its
    # name). Reading needs runs.read there; creating, firing and deleting need runs.write (a
    # trigger starts pipelines, which write runs), and what it watches must be readable
    ("POST", "/api/v1/triggers", _op(
        P.RUNS_WRITE, _body(K.TRIGGER, "name"), _body(_DATASET, "dataset", permission=P.DATA_READ),
        _body(_MODEL, "model", permission=P.MODELS_READ), _body(K.MONITOR, "monitor", permission=P.DEPLOYMENTS_READ),
    )),
    ("GET", "/api/v1/triggers", _op(P.RUNS_READ, listing=True)),
    ("GET", "/api/v1/triggers/{name}", _op(P.RUNS_READ, _path(K.TRIGGER, "name"))),
    ("GET", "/api/v1/triggers/{name}/history", _op(P.RUNS_READ, _path(K.TRIGGER, "name"))),
    ("POST", "/api/v1/triggers/{name}/fire", _op(P.RUNS_WRITE, _path(K.TRIGGER, "name"))),
    ("DELETE", "/api/v1/triggers/{name}", _op(P.RUNS_WRITE, _path(K.TRIGGER, "name"))),
    # one look at every trigger of every project: administrators
    ("POST", "/api/v1/triggers/tick", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    # secrets: only names and history ever leave the server; administrators manage them
    ("GET", "/api/v1/secrets", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("GET", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("PUT", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, global_only=True)),
    ("DELETE", "/api/v1/secrets/{name}", _op(P.GOVERNANCE_ADMIN, global_only=True)),
]


def _build() -> dict[tuple[str, str], Operation]:
    table: dict[tuple[str, str], Operation] = {}
    rows = list(_TABLE)
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        rows += [(m, prefix + path, op) for m, path, op in _MLFLOW]
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


PROJECT_TAG = "steward.project"  # MLflow clients name an experiment's project with this tag


def requested_project(query_value: object, body: Mapping[str, object]) -> str | None:
    """The project a creating request asks for: the body's ``project``, a
    ``steward.project`` tag (MLflow's list of ``{key, value}`` or a mapping), or the
    ``project`` query parameter."""
    found = body.get("project")
    if isinstance(found, str) and found:
        return found
    tags = body.get("tags")
    if isinstance(tags, Mapping) and isinstance(tags.get(PROJECT_TAG), str):
        return str(tags[PROJECT_TAG])
    if isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, Mapping) and tag.get("key") == PROJECT_TAG and isinstance(tag.get("value"), str):
                return str(tag["value"])
    return query_value if isinstance(query_value, str) and query_value else None


def new_project(name: str, requested: str | None) -> str:
    """The project a new object named ``name`` belongs to: the requested one, or its own name.

    The server authorises a creation against this and the services store this, so the two
    can never disagree.

    Raises:
        InvalidInputError: the requested project is not 1-250 printable characters, or is ``*``.
    """
    if requested is None or requested == "":
        return name
    if not isinstance(requested, str) or len(requested) > 250 or not requested.isprintable() or requested.strip() != requested:
        raise InvalidInputError("a project is 1-250 printable characters", field="project")
    if requested == GLOBAL_PROJECT:
        raise InvalidInputError("'*' means every project; an object belongs to one", field="project")
    return requested


def readable_projects(
    *, is_admin: bool, scopes: Iterable[str], bindings: Iterable[tuple[str, Role]], permission: Permission
) -> frozenset[str] | None:
    """The projects in which the caller holds ``permission``: what a listing may show.

    Returns:
        None when every project is readable (an administrator, or a binding on ``"*"``);
        otherwise the set of project names (empty: nothing).
    """
    if not _scope_allows(scopes, permission):
        return frozenset()
    if is_admin:
        return None
    names: set[str] = set()
    for pattern, role in bindings:
        if permission in ROLE_PERMISSIONS[role]:
            if pattern == GLOBAL_PROJECT:
                return None
            names.add(pattern)
    return frozenset(names)


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
