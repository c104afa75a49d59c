"""Alembic migrations: fresh databases reach head, match the tables, and re-running is a no-op."""

from __future__ import annotations

import multiprocessing
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
