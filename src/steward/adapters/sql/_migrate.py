"""Apply Alembic migrations: automatically on first use, or by ``steward db upgrade``.

Opening a store that is already current (every command after the first) reads the one row
of ``alembic_version`` and compares it with the head named in the migration files' text,
without importing Alembic: its import costs a quarter of a second, as much as the rest of
``steward runs list``. Anything unexpected falls back to Alembic itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Dialect, Engine, text
from sqlalchemy.exc import DBAPIError

from steward._private_files import FILE_MODE

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every Steward process.
_PG_LOCK_KEY = 0x5354_4557
_REVISION = re.compile(r'^revision\s*(?::\s*str\s*)?=\s*"([^"]+)"\s*$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision\s*(?::[^=]*)?=\s*(?:"([^"]+)"|None)\s*$', re.MULTILINE)


@functools.cache
def _head_from_files() -> str | None:
    """The one head revision as the migration files declare it, or None if that is unclear
    (a merge, a tuple of down revisions, a file written differently): Alembic decides then."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, parent = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(parent) != 1:
            return None
        revisions.add(revision[0])
        if parent[0]:
            parents.add(parent[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _looks_current(engine: Engine) -> bool:
    """True when ``alembic_version`` holds exactly the head; False when unsure."""
    head = _head_from_files()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            stored = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except DBAPIError:  # no such table yet: a fresh database
        return False
    return stored == [head]


def _config() -> Config:
    from alembic.config import Config  # Alembic only when migrating or asked for revisions

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The newest migration this version of Steward knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of concurrent processes starting on a fresh store."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    # owner-only like the database beside it: with a world-writable lock file another local
    # user could hold the lock and stall every migration
    fd = os.open(f"{database}.migrate.lock", os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    with os.fdopen(fd, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# What the migrations build that the table definitions do not declare: on PostgreSQL the
# audit trail's prefix indexes use varchar_pattern_ops (0025; declaring it in the tables
# would import the PostgreSQL dialect in every command).
_POSTGRESQL_AFTER_CREATE = (
    "DROP INDEX ix_audit_log_target",
    "CREATE INDEX ix_audit_log_target ON audit_log (target varchar_pattern_ops)",
    "DROP INDEX ix_audit_log_action",
    "CREATE INDEX ix_audit_log_action ON audit_log (action varchar_pattern_ops, entry_id)",
)


def _is_empty(engine: Engine) -> bool:
    """No table at all in the database (PostgreSQL: in the schema connections use)."""
    if engine.dialect.name == "postgresql":
        query = "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    elif engine.dialect.name == "sqlite":
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    else:
        return False  # Alembic decides
    with engine.connect() as conn:
        return int(conn.execute(text(query)).scalar_one()) == 0


_CREATE_STATEMENTS: dict[str, tuple[str, ...]] = {}


def _create_statements(dialect: Dialect) -> tuple[str, ...]:
    """The DDL that creates every declared table and index, compiled once per dialect."""
    if dialect.name not in _CREATE_STATEMENTS:
        _CREATE_STATEMENTS[dialect.name] = _compile_create_statements(dialect)
    return _CREATE_STATEMENTS[dialect.name]


def _compile_create_statements(dialect: Dialect) -> tuple[str, ...]:
    from sqlalchemy.schema import CreateIndex, CreateTable

    from ._all_tables import metadata

    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes)
    if dialect.name == "postgresql":
        statements.extend(_POSTGRESQL_AFTER_CREATE)
    statements.append(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )
    return tuple(statements)


def _create_at_head(engine: Engine, head: str) -> None:
    """Build an empty database at ``head`` in one transaction: the tables as declared, then
    what only the migrations add, then the revision stamp. Every migration's data step
    (0008's, 0009's) moves existing rows, so on an empty database this is what running
    them all builds (``tests/adapters/sql/test_migrations.py`` compares the two), in a
    fraction of the time: a fresh store is opened by every first command and every test.
    PostgreSQL gets the statements as one script (one round trip, not one per statement)."""
    statements = _create_statements(engine.dialect)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(";\n".join(statements))
        else:
            for statement in statements:
                conn.exec_driver_sql(statement)
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest). An empty database asked for
    the newest is created at it directly (``_create_at_head``)."""
    with _migration_lock(engine):
        if revision == "head":
            if _looks_current(engine):
                return
            head = _head_from_files()
            if head is not None and _is_empty(engine):
                _create_at_head(engine, head)
                return
            if is_current(engine):
                return
        from alembic import command

        cfg = _config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


def ensure_current(engine: Engine) -> None:
    """Migrate on first use; cheap when the database is already current."""
    if not _looks_current(engine):
        upgrade(engine)
