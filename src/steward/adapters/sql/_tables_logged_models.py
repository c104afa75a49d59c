"""Tables of MLflow 3's logged models: the models, their params, tags, metrics and files,
and the runs that output them.

Created by migration ``0015_logged_models``; keep the two in step (a test compares them).
A model's files are blobs of the content-addressed store, named here by path and digest.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ._tables import _BigId, metadata

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(34), primary_key=True),  # "m-" and 32 hex characters
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(250), nullable=False),
    Column("model_type", String(250), nullable=False, server_default=""),
    # the run that produced it, if any (kept when the run is deleted: the model stays)
    Column("source_run_id", String(32), nullable=True, index=True),
    Column("status", String(20), nullable=False),
    Column("status_message", Text, nullable=False, server_default=""),
    Column("creator", String(250), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# Metric points logged with a model id (MLflow copies a run's metrics of the model's step).
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("model_id", String(34), ForeignKey("logged_models.model_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Float(precision=53), nullable=True),  # NULL with is_nan: NaN is not portable across engines
    Column("is_nan", Boolean, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("run_id", String(32), nullable=False, server_default=""),
    Column("dataset_name", String(500), nullable=False, server_default=""),
    Column("dataset_digest", String(100), nullable=False, server_default=""),
    Index("ix_logged_model_metrics_model_id_key", "model_id", "key"),
)

logged_model_artifacts = Table(
    "logged_model_artifacts",
    metadata,
    Column("model_id", String(34), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# A run's outputs: the logged models it produced, at a step.
run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(34), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("step", BigInteger, nullable=False, server_default="0"),
)
