"""SQLAlchemy table definitions of the metadata store (tracking and audit).

Later stages add their tables to the same :data:`metadata` in modules of their own;
each table is created by an Alembic migration under ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger autoincrement ids must be INTEGER on SQLite to alias the rowid.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
    # the project it belongs to (core/permissions.py); fixed at creation
    Column("project", String(250), nullable=False, index=True),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(250), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("user", String(250), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("failure", Text, nullable=True),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
    # the runs page's default order (newest first within an experiment): migration 0024
    Index("ix_runs_experiment_id_start_time", "experiment_id", "start_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# Metric points, stored as one row per (run, key, flush): three packed little-endian
# arrays (int64 steps, float64 values, int64 ms timestamps). A training loop logs
# thousands of points a second; a row per point makes the database the bottleneck,
# while chunks cost one row per key per flush and keep NaN/inf bit-exact on every engine.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("count", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
    Index("ix_metric_chunks_run_id_key", "run_id", "key"),
)

# The latest point per (run, key): what search filters and sorts on.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float(precision=53), nullable=True),
    Column("is_nan", Boolean, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

# Dataset versions a run consumed; the data stage links `dataset` to its versions.
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("dataset", String(300), primary_key=True),
    Column("role", String(40), primary_key=True),
)

# Logical artifact paths of a run, each pointing at a content-addressed blob.
run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Append-only record of every mutation.
audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", _BigId, primary_key=True, autoincrement=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(1000), nullable=False),
    Column("details", JSON, nullable=False),
    # the hash chain (core/audit_chain.py), added by migration 0006_audit_chain
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # the audit listing's filters (migration 0025). On PostgreSQL the migration builds the
    # target and action indexes with varchar_pattern_ops, so prefix filters (LIKE) read them
    # whatever the collation; not declared here: a dialect option makes SQLAlchemy import the
    # PostgreSQL dialect with this module, in every command (alembic's comparison ignores it)
    Index("ix_audit_log_target", "target"),
    Index("ix_audit_log_actor", "actor", "entry_id"),
    Index("ix_audit_log_action", "action", "entry_id"),
)
