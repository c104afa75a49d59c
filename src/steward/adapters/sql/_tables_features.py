"""Tables of the feature store: views, their versioned definitions, dataset lineage.

Created by migration ``0019_features``; keep the two in step (the schema-drift test
compares them). A view's row carries its project (fixed at creation), its latest version
number and its materialisation state; each version stores the whole canonical
definition as JSON. The online values themselves live in the online store (SQLite file
or Redis), not here.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, String, Table

from ._tables import metadata

__all__ = ["feature_lineage", "feature_view_versions", "feature_views"]

feature_views = Table(
    "feature_views",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("project", String(250), nullable=False, index=True),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("materialized_until", BigInteger, nullable=True),  # ms: the end of the last materialised interval
    Column("newest_value_at", BigInteger, nullable=True),  # ms: newest event time in the online store
    Column("materialized_at", BigInteger, nullable=True),
)

feature_view_versions = Table(
    "feature_view_versions",
    metadata,
    Column("name", String(63), ForeignKey("feature_views.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
)

feature_lineage = Table(
    "feature_lineage",
    metadata,
    Column("dataset", String(200), primary_key=True),
    Column("dataset_version", Integer, primary_key=True),
    Column("view", String(63), primary_key=True),
    Column("view_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
