"""Alembic migrations: fresh databases reach head, match the tables, and re-running is a no-op."""

from __future__ import annotations

import multiprocessing
import re
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from steward.adapters.sql import (
    SqlStore,
    create_store_engine,
    current_revision,
    head_revision,
    upgrade,
)
from steward.adapters.sql._all_tables import metadata


def test_a_fresh_database_is_migrated_to_head_on_first_use(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        assert current_revision(engine) is None
        store = SqlStore(store_url)
        store.close()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_table_definitions(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == []
    finally:
        store.close()


def test_upgrading_twice_is_a_no_op(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        with store.engine.connect() as conn:
            tables_before = sorted(sa.inspect(conn).get_table_names())
        upgrade(store.engine)
        upgrade(store.engine, "head")
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            assert sorted(sa.inspect(conn).get_table_names()) == tables_before
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [head_revision()]
    finally:
        store.close()


def _open_store(url: str) -> str | None:
    store = SqlStore(url)
    try:
        return current_revision(store.engine)
    finally:
        store.close()


def test_four_processes_opening_a_fresh_sqlite_store_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        revisions = pool.map(_open_store, [url] * 4)
    assert revisions == [head_revision()] * 4


def test_four_processes_opening_a_fresh_postgresql_schema_at_once_all_succeed(pg_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        revisions = pool.map(_open_store, [pg_url] * 4)
    assert revisions == [head_revision()] * 4


def _schema_of(engine: sa.Engine) -> dict[str, object]:
    """Everything about the schema the store relies on, by name (column order aside)."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        tables: dict[str, object] = {}
        for table in sorted(inspector.get_table_names()):
            tables[table] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)
                ),
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]), str(f.get("options")))
                    for f in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            }
        if conn.dialect.name == "postgresql":  # operator classes, partial indexes: the full definitions
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")).all()
            tables["pg_indexes"] = sorted((name, definition.replace(f"{schema}.", "")) for name, definition in rows)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"tables": tables, "alembic_version": version}


def test_a_fresh_database_created_at_head_equals_one_migrated_step_by_step(store_url: str, tmp_path: Path) -> None:
    """An empty database is created at head in one step (tables as declared, then what only
    the migrations add); every migration run in turn must build the same schema."""
    created = create_store_engine(store_url)
    if store_url.startswith("sqlite"):
        migrated_url, drop = f"sqlite:///{tmp_path / 'migrated.db'}", None
    else:  # a second schema beside the test's, on the same server
        tested = re.search(r"search_path%3D(\w+)", store_url)
        assert tested is not None, store_url
        schema = f"m_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(store_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        migrated_url, drop = store_url.replace(tested.group(0), f"search_path%3D{schema}"), (admin, schema)
    migrated = create_store_engine(migrated_url)
    try:
        upgrade(created)  # empty, to head: created directly
        upgrade(migrated, head_revision() or "")  # a named revision: Alembic runs every migration
        assert _schema_of(created) == _schema_of(migrated)
    finally:
        created.dispose()
        migrated.dispose()
        if drop is not None:
            admin, schema = drop
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
