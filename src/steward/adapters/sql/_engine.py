"""Engine creation: SQLite in WAL mode with immediate write transactions, or PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from steward._private_files import create_private_file, make_private_dirs
from steward.errors import InvalidInputError

WRITE = {"steward_write": True}


def create_store_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """Create the engine for ``url`` with Steward's connection settings.

    SQLite: WAL journal, ``synchronous=NORMAL`` (durable across a process kill; a power
    loss can lose the last commits but never corrupts), a busy timeout, foreign keys on,
    and ``BEGIN IMMEDIATE`` for write transactions so that concurrent writers queue on the
    busy timeout instead of failing with "database is locked" on lock upgrade.

    Raises:
        InvalidInputError: for a URL SQLAlchemy cannot parse or a backend we do not support.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise InvalidInputError("database URL is not a valid SQLAlchemy URL", field="database_url") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database, busy_timeout_ms)
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise InvalidInputError(
        f"database backend {backend!r} is not supported; use sqlite or postgresql",
        field="database_url",
    )


def _sqlite_engine(url: str, database: str | None, busy_timeout_ms: int) -> Engine:
    in_memory = database in (None, "", ":memory:")
    if not in_memory and not str(database).startswith("file:"):
        _create_private_database(Path(str(database)))
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # Any: DB-API connection
        # Let SQLAlchemy's "begin" event, not pysqlite, decide when transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:  # Any: sqlalchemy Connection
        # on the DB-API connection: every transaction starts here, and exec_driver_sql's
        # execution context would cost more than SQLite's BEGIN itself
        begin = "BEGIN IMMEDIATE" if conn.get_execution_options().get("steward_write") else "BEGIN"
        try:
            conn.connection.dbapi_connection.execute(begin)
        except sqlite3.Error as exc:  # "database is locked" after the busy timeout, as exec_driver_sql raised it
            raise sa_exc.DBAPIError.instance(begin, (), exc, sqlite3.Error, dialect=conn.dialect) from exc

    return engine


def _create_private_database(path: Path) -> None:
    """Create the database file 0600 (and its folders 0700) before SQLite opens it.

    SQLite creates its WAL and shared-memory files with the database file's mode, so
    they are owner-only too whatever the umask.
    """
    make_private_dirs(path.parent)
    try:
        os.close(create_private_file(path))
    except FileExistsError:
        pass
