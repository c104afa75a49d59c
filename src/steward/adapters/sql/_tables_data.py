"""Tables of the data stage: datasets and their content-addressed versions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ._tables import _BigId, metadata

__all__ = ["dataset_versions", "datasets"]

datasets = Table(
    "datasets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("description", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    # the project it belongs to (core/permissions.py); fixed at creation
    Column("project", String(250), nullable=False, index=True),
)

# One row per version. (name, content_hash) is unique so that two processes registering
# the same content at once end with one version: the loser's insert fails and it reads
# the winner's row.
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), ForeignKey("datasets.name", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("num_rows", BigInteger, nullable=False),
    Column("num_columns", Integer, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("source", Text, nullable=False),
    Column("storage", String(20), nullable=False),
    Column("artifact_digest", String(64), nullable=True),
    Column("artifact_uri", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    UniqueConstraint("name", "version"),
    UniqueConstraint("name", "content_hash"),
    Index("ix_dataset_versions_content_hash", "content_hash"),
)
