"""Tables of the prediction log: the index of its Parquet segments and the delayed labels.

Created by migration ``0011_prediction_log``; keep the two in step (the schema-drift test
compares them). The predictions themselves live in the artifact store; a segment exists
for readers only once its row is here, and the row is written after the file is durable.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from ._tables import _BigId, metadata

__all__ = ["prediction_labels", "prediction_segments"]

prediction_segments = Table(
    "prediction_segments",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("deployment", String(64), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("min_time", BigInteger, nullable=False),  # epoch ms, UTC, of the segment's first and last row
    Column("max_time", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("schema", JSON, nullable=False),  # column name -> Arrow type
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("path", name="uq_prediction_segments_path"),
    Index("ix_prediction_segments_deployment_min_time", "deployment", "min_time"),
)

# One label per (deployment, request, row); row -1 labels every row of the request.
prediction_labels = Table(
    "prediction_labels",
    metadata,
    Column("deployment", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("row", Integer, nullable=False),
    Column("label", JSON, nullable=True),
    Column("ingested_at", BigInteger, nullable=False),
    Column("ingested_by", String(250), nullable=False),
    PrimaryKeyConstraint("deployment", "request_id", "row", name="pk_prediction_labels"),
)
