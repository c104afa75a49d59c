"""Import every stage's table module so that ``metadata`` knows all tables.

Alembic's environment and the schema-drift test import this module. A stage that adds
tables adds one import line here.
"""

from __future__ import annotations

from . import (
    _tables_alerts,  # noqa: F401 - registers alert states and their history
    _tables_data,  # noqa: F401 - registers the data stage's tables
    _tables_deployments,  # noqa: F401 - registers deployments, their history, stats and leases
    _tables_evaluation,  # noqa: F401 - registers evaluations, gate results, overrides
    _tables_features,  # noqa: F401 - registers feature views, their versions and dataset lineage
    _tables_governance,  # noqa: F401 - registers users, tokens, role bindings
    _tables_logged_models,  # noqa: F401 - registers MLflow 3's logged models and run outputs
    _tables_monitors,  # noqa: F401 - registers monitors, their per-window results and runner leases
    _tables_predictions,  # noqa: F401 - registers the prediction log's segment index and labels
    _tables_registry,  # noqa: F401 - registers the registry tables
    _tables_replicas,  # noqa: F401 - registers the failed logins every replica counts
    _tables_secrets,  # noqa: F401 - registers the encrypted secrets table
    _tables_serving_features,  # noqa: F401 - registers the features each deployment looks up at serving time
    _tables_stewardship,  # noqa: F401 - registers model owners, retirements and rollback drills
    _tables_uploads,  # noqa: F401 - registers resumable upload sessions
    _tables_triggers,  # noqa: F401 - registers triggers, their pipeline starts and runner leases
    _tables_validation,  # noqa: F401 - registers the validation tables
    _tables_webhooks,  # noqa: F401 - registers webhooks, their deliveries and attempts, the worker cursor and lease
)
from ._tables import metadata

__all__ = ["metadata"]
