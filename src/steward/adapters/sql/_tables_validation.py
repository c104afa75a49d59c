"""Tables of validation: versioned suites and the results of applying them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ._tables import _BigId, metadata

__all__ = ["validation_results", "validation_suites"]

# One row per suite version; (name, content_hash) is unique so storing the same text
# twice (or from two processes at once) ends with one version.
validation_suites = Table(
    "validation_suites",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("yaml", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    # the project it belongs to (core/permissions.py); every version of a suite has its first's
    Column("project", String(250), nullable=False, index=True),
    UniqueConstraint("name", "version"),
    UniqueConstraint("name", "content_hash"),
)

validation_results = Table(
    "validation_results",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("suite_ref", String(300), nullable=False),
    Column("dataset_ref", String(1000), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    # its dataset's project (core/permissions.py)
    Column("project", String(250), nullable=False, index=True),
    Index("ix_validation_results_dataset_ref", "dataset_ref"),
    Index("ix_validation_results_suite_ref", "suite_ref"),
)
