"""SQL metadata store (SQLite, PostgreSQL) with Alembic migrations."""

from __future__ import annotations

from ._engine import create_store_engine
from ._migrate import current_revision, head_revision, upgrade
from ._store import SqlStore

__all__ = ["SqlStore", "create_store_engine", "current_revision", "head_revision", "upgrade"]
