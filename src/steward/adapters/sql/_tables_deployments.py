"""Tables of the serving stage: deployments, their history, stats reports and controller leases.

Created by migration ``0010_deployments`` (``0014_cpu_cost`` adds the stats' CPU time); keep
them in step (the schema-drift test compares them). A deployment names model versions as ``name:version`` text without a
foreign key: versions are never deleted, and the plan is read whole by every replica.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, String, Table, Text

from ._tables import _BigId, metadata

__all__ = ["deployment_history", "deployment_leases", "deployment_stats", "deployments"]

deployments = Table(
    "deployments",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("project", String(250), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("variants", JSON, nullable=False),  # [{"name", "model", "weight", "shadow"}]
    Column("sticky_key", String(250), nullable=True),
    Column("mode", String(20), nullable=False),  # single | canary | ab | shadow | blue_green | rollout
    Column("status", String(20), nullable=False),  # serving | rolling_out | rolled_back
    Column("reason", Text, nullable=False, server_default=""),
    Column("rollout", JSON, nullable=True),  # the active or last rollout: policy, step, evidence
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(250), nullable=False),
    Index("ix_deployments_project", "project"),
)

deployment_history = Table(
    "deployment_history",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("deployment", String(63), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("action", String(40), nullable=False),
    Column("actor", String(250), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("variants", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_deployment_history_deployment_id", "deployment", "id"),
)

deployment_stats = Table(
    "deployment_stats",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("deployment", String(63), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("variant", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),
    Column("window_end_ms", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("latency_counts", JSON, nullable=False),
    # measured CPU milliseconds of the answered requests' model calls and the rows they predicted
    # (0014; null in windows reported before)
    Column("cpu_ms", Float, nullable=True),
    Column("rows", BigInteger, nullable=True),
    Index("ix_deployment_stats_deployment_revision", "deployment", "revision"),
)

deployment_leases = Table(
    "deployment_leases",
    metadata,
    Column("deployment", String(63), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("acquired_at", BigInteger, nullable=False),
)
