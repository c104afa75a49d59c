"""Migration 0003 creates exactly the registry tables the metadata declares."""

from __future__ import annotations

import sqlalchemy as sa

from steward.adapters.sql import SqlStore, _tables_registry
from steward.adapters.sql._all_tables import metadata

REGISTRY_TABLES = [t.name for t in metadata.sorted_tables if t.name in vars(_tables_registry) or t.name.startswith(("model", "registered"))]


def test_the_migrated_registry_schema_matches_the_table_definitions(store: SqlStore) -> None:
    inspector = sa.inspect(store.engine)
    assert set(REGISTRY_TABLES) == {
        "registered_models", "registered_model_tags", "model_versions", "model_version_tags", "model_aliases", "model_approvals",
        "model_version_files",  # migration 0009_version_files
        "registered_model_tombstones",  # migration 0016_mlflow_registry
        "model_stewards", "model_retirements",  # migration 0023_model_stewardship
    }
    for name in REGISTRY_TABLES:
        table = metadata.tables[name]
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(columns) == {c.name for c in table.columns}, name
        for col in table.columns:
            assert columns[col.name]["nullable"] == col.nullable, f"{name}.{col.name}"
        pk = inspector.get_pk_constraint(name)["constrained_columns"]
        assert pk == [c.name for c in table.primary_key.columns], name
        fks = {(tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(name)}
        declared = {(tuple(f.column_keys), f.referred_table.name) for f in table.foreign_key_constraints}
        assert fks == declared, name
        indexes = {i["name"] for i in inspector.get_indexes(name)}
        assert indexes == {i.name for i in table.indexes}, name
