"""Tables of the registry stage: models, versions, tags, aliases, approvals.

Created by migration ``0003_registry``; keep the two in step (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ._tables import _BigId, metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("owner", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # bumped under the row lock when a version is created: versions count 1, 2, 3 per model
    Column("latest_version", Integer, nullable=False, server_default="0"),
    # the project it belongs to (core/permissions.py); fixed at creation
    Column("project", String(250), nullable=False, index=True),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("name", String(64), ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(64), ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("artifact_path", String(1000), nullable=False),
    Column("state", String(20), nullable=False),
    Column("flavor", String(50), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("signature", JSON, nullable=False),
    Column("requirements", JSON, nullable=False),
    Column("datasets", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # the MLflow 3 logged model whose files the version pins (migration 0016_mlflow_registry)
    Column("logged_model_id", String(64), nullable=True),
    Index("ix_model_versions_run_id", "run_id"),
    Index("ix_model_versions_state", "state"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

# The primary key (name, alias) is what makes an alias point at one version at most.
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(250), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

model_approvals = Table(
    "model_approvals",
    metadata,
    Column("approval_id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("approver", String(250), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
    Index("ix_model_approvals_name_version", "name", "version"),
)

# The files behind a version, pinned at registration (migration 0009_version_files): a run
# may overwrite its artifact paths later, the version keeps loading these blobs.
model_version_files = Table(
    "model_version_files",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)


# Names of deleted models and the last version number each reached (migration
# 0016_mlflow_registry): a model created again under that name counts on from there, so
# "name:1" never names two different models in gates, evaluations or the audit trail.
registered_model_tombstones = Table(
    "registered_model_tombstones",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("latest_version", Integer, nullable=False),
    Column("deleted_at", BigInteger, nullable=False),
    Column("deleted_by", String(250), nullable=False),
)
