"""Table of serving-time feature lookup: the features each deployment's requests are completed with.

Created by migration ``0020_serving_features``; keep them in step (the schema-drift test
compares them). Kept apart from ``deployments`` (a row per deployment that declares
features) so that a deployment's plan changes and its feature declaration never race.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, String, Table

from ._tables import metadata

__all__ = ["deployment_features"]

deployment_features = Table(
    "deployment_features",
    metadata,
    Column("deployment", String(63), primary_key=True),
    Column("features", JSON, nullable=False),  # ["view:feature", ...] in the order declared
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(250), nullable=False),
)
