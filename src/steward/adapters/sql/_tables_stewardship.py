"""Tables of model stewardship: each model's owner and on-call contact, retirements, and
rollback drills.

Created by migration ``0023_model_stewardship``; keep the two in step (the schema-drift test
compares them). Every row is written in the same transaction as its audit entry.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from ._tables import _BigId, metadata

__all__ = ["deployment_drills", "model_retirements", "model_stewards"]

model_stewards = Table(
    "model_stewards",
    metadata,
    Column("name", String(250), primary_key=True),  # the registered model
    Column("owner", String(250), nullable=False),  # a user
    Column("on_call", String(500), nullable=False, server_default=""),  # whom alerts page
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(250), nullable=False),
)

model_retirements = Table(
    "model_retirements",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("retired_at", BigInteger, nullable=False),
    Column("retired_by", String(250), nullable=False),
    Column("retention", String(20), nullable=False),  # keep | archive
    Column("archive", Text, nullable=False, server_default=""),  # where the archived bundle is
    Column("archive_sha256", String(64), nullable=False, server_default=""),
    Column("drained", JSON, nullable=False),  # deployments whose traffic moved to the champion
    Column("served", JSON, nullable=False),  # [{"deployment", "from_ms", "to_ms", "variant"}]
    Column("comment", Text, nullable=False, server_default=""),
)

deployment_drills = Table(
    "deployment_drills",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("deployment", String(63), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("serving", String(300), nullable=False),  # the version serving before (and after)
    Column("rehearsed", String(300), nullable=False),  # the version rolled back to
    Column("rollback_ms", Integer, nullable=False),
    Column("restore_ms", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("passed", Boolean, nullable=False),
    Index("ix_deployment_drills_deployment", "deployment", "started_at"),
)
