"""Which project an object belongs to: the lookups behind every authorisation check.

One indexed query per reference. A reference that does not parse or names nothing
answers ``None`` (the caller decides what an unknown object means).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, select

from steward.core.permissions import ObjectKind
from steward.errors import InvalidInputError

from ._store import SqlStore
from ._tables import experiments, runs
from ._tables_data import dataset_versions, datasets
from ._tables_deployments import deployments
from ._tables_features import feature_views
from ._tables_logged_models import logged_models
from ._tables_monitors import monitors
from ._tables_registry import registered_models
from ._tables_triggers import triggers
from ._tables_uploads import uploads
from ._tables_validation import validation_suites
from ._tables_webhooks import webhooks

__all__ = ["DEFAULT_EXPERIMENT_NAME", "dataset_ref_project", "project_of"]

# MLflow's experiment id "0" is Steward's experiment "Default", created on first use
DEFAULT_EXPERIMENT_NAME = "Default"


def _experiment(conn: Connection, value: str) -> str | None:
    if value == "0":
        return _experiment_name(conn, DEFAULT_EXPERIMENT_NAME) or DEFAULT_EXPERIMENT_NAME
    try:
        key = int(value)
    except (TypeError, ValueError):
        return None
    if not -(2**31) <= key < 2**31:
        return None
    found: str | None = conn.execute(select(experiments.c.project).where(experiments.c.experiment_id == key)).scalar()
    return found


def _experiment_name(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(experiments.c.project).where(experiments.c.name == value)).scalar()
    return found


def _run(conn: Connection, value: str) -> str | None:
    if len(value) != 32:
        return None
    found: str | None = conn.execute(
        select(experiments.c.project)
        .select_from(runs.join(experiments, runs.c.experiment_id == experiments.c.experiment_id))
        .where(runs.c.run_id == value)
    ).scalar()
    return found


def _artifact(conn: Connection, value: str) -> str | None:
    # MLflow's artifact proxy paths: <experiment_id>/<run_id>/artifacts[/<path>], and a
    # logged model's <experiment_id>/models/<model_id>/artifacts[/<path>]
    parts = value.strip("/").split("/", 3)
    if len(parts) >= 3 and parts[1] == "models":
        return _logged_model(conn, parts[2])
    return _run(conn, parts[1]) if len(parts) >= 2 else None


def _logged_model(conn: Connection, value: str) -> str | None:
    if len(value) != 34:
        return None
    found: str | None = conn.execute(
        select(experiments.c.project)
        .select_from(logged_models.join(experiments, logged_models.c.experiment_id == experiments.c.experiment_id))
        .where(logged_models.c.model_id == value)
    ).scalar()
    return found


def _model(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(
        select(registered_models.c.project).where(registered_models.c.name == value)
    ).scalar()
    return found


def _model_ref(conn: Connection, value: str) -> str | None:
    from steward.registry._refs import parse_ref

    try:
        return _model(conn, parse_ref(value).name)
    except InvalidInputError:
        return None


def _model_source(conn: Connection, value: str) -> str | None:
    from steward.registry._mlflow_format import parse_source

    try:
        source = parse_source(value)
    except InvalidInputError:
        return None
    return _run(conn, source.run_id) if source.run_id else _logged_model(conn, source.logged_model_id)


def _dataset(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(datasets.c.project).where(datasets.c.name == value)).scalar()
    return found


def dataset_ref_project(conn: Connection, value: str) -> str | None:
    """The project of the dataset a version reference names (None: no such dataset)."""
    from steward.data._versions import parse_ref

    try:
        parsed = parse_ref(value)
    except InvalidInputError:
        return None
    if parsed.name is not None:
        found = _dataset(conn, parsed.name)
        if found is not None or parsed.hash_prefix is None:
            return found
    if parsed.hash_prefix is None:
        return None
    # a bare content-hash prefix: the dataset of the (single) version it names
    names = conn.execute(
        select(dataset_versions.c.name).distinct()
        .where(dataset_versions.c.content_hash.startswith(parsed.hash_prefix, autoescape=True))
        .limit(2)
    ).scalars().all()
    return _dataset(conn, names[0]) if len(names) == 1 else None


def _suite(conn: Connection, value: str) -> str | None:
    name = value.split(":", 1)[0].strip()
    found: str | None = conn.execute(
        select(validation_suites.c.project).where(validation_suites.c.name == name).limit(1)
    ).scalar()
    return found


def _deployment(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(deployments.c.project).where(deployments.c.name == value)).scalar()
    return found


def _monitor(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(monitors.c.project).where(monitors.c.name == value)).scalar()
    return found


def _feature_view(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(feature_views.c.project).where(feature_views.c.name == value)).scalar()
    return found


def _feature_ref(conn: Connection, value: str) -> str | None:
    return _feature_view(conn, value.split(":", 1)[0].strip())


def _upload(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(uploads.c.project).where(uploads.c.upload_id == value)).scalar()
    return found


def _project(_conn: Connection, value: str) -> str | None:
    # a project is named, not stored: the name is its own project ("*" is every project, never one)
    return value if value.strip() == value and value.isprintable() and value != "*" and len(value) <= 250 else None


def _webhook(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(webhooks.c.project).where(webhooks.c.name == value)).scalar()
    return found


def _trigger(conn: Connection, value: str) -> str | None:
    found: str | None = conn.execute(select(triggers.c.project).where(triggers.c.name == value)).scalar()
    return found


_LOOKUPS: dict[ObjectKind, Callable[[Connection, str], str | None]] = {
    ObjectKind.EXPERIMENT: _experiment,
    ObjectKind.EXPERIMENT_NAME: _experiment_name,
    ObjectKind.RUN: _run,
    ObjectKind.ARTIFACT: _artifact,
    ObjectKind.LOGGED_MODEL: _logged_model,
    ObjectKind.MODEL: _model,
    ObjectKind.MODEL_REF: _model_ref,
    ObjectKind.MODEL_SOURCE: _model_source,
    ObjectKind.DATASET: _dataset,
    ObjectKind.DATASET_REF: dataset_ref_project,
    ObjectKind.SUITE: _suite,
    ObjectKind.DEPLOYMENT: _deployment,
    ObjectKind.MONITOR: _monitor,
    ObjectKind.FEATURE_VIEW: _feature_view,
    ObjectKind.FEATURE_REF: _feature_ref,
    ObjectKind.UPLOAD: _upload,
    ObjectKind.TRIGGER: _trigger,
    ObjectKind.PROJECT: _project,
    ObjectKind.WEBHOOK: _webhook,
}


def project_of(store: SqlStore, kind: ObjectKind, value: str) -> str | None:
    """The project of the existing object ``value`` names (None: no such object)."""
    lookup = _LOOKUPS.get(kind)
    if lookup is None or not isinstance(value, str) or not value or len(value) > 1000:
        return None
    with store.read() as conn:
        return lookup(conn, value)
