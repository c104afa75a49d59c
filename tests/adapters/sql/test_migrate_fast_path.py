"""Opening a current store skips Alembic; any other store still goes through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from steward.adapters.sql import (
    SqlStore,
    create_store_engine,
    current_revision,
    head_revision,
    upgrade,
)
from steward.adapters.sql._migrate import _head_from_files


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    assert _head_from_files() == head_revision()


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    SqlStore(url).close()  # creates and migrates
    script = (
        "import json, sys\n"
        "from steward.adapters.sql import SqlStore\n"
        f"SqlStore({url!r}).close()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout) == []


def test_a_store_one_migration_behind_is_still_brought_to_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    engine = create_store_engine(url)
    try:
        upgrade(engine, "0018_replicas")
        assert current_revision(engine) == "0018_replicas"
        SqlStore(url).close()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_store_with_a_foreign_version_row_goes_through_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    SqlStore(url).close()
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('someone_elses')"))
        from steward.adapters.sql._migrate import _looks_current

        assert not _looks_current(engine)
    finally:
        engine.dispose()
