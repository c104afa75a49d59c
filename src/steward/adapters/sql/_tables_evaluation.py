"""Tables of the evaluation stage: evaluation reports, gate outcomes and their overrides.

Created by migration ``0007_evaluation``; keep the two in step (the schema-drift test
compares them). Rows name a model version by (model_name, model_version) without a
foreign key, so a report outlives nothing it should not: versions are never deleted.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ._tables import _BigId, metadata

__all__ = ["evaluations", "gate_overrides", "gate_results"]

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("dataset_ref", String(1000), nullable=False),
    Column("dataset_hash", String(64), nullable=True),
    Column("task", String(20), nullable=False),
    Column("report", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_evaluations_model_name_model_version", "model_name", "model_version"),
)

gate_results = Table(
    "gate_results",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("dataset_ref", String(1000), nullable=False),
    Column("policy", Text, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("champion_version", Integer, nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("checks", JSON, nullable=False),
    Column("evaluation_id", BigInteger, nullable=True),
    Column("champion_evaluation_id", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_gate_results_model_name_model_version", "model_name", "model_version"),
)

gate_overrides = Table(
    "gate_overrides",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("gate_result_id", BigInteger, ForeignKey("gate_results.id", ondelete="CASCADE"), nullable=False),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_gate_overrides_model_name_model_version", "model_name", "model_version"),
)
