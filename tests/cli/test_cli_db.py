"""``steward db upgrade|current`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from cli_testing import Cli, cli_env_for

from steward.adapters.sql import head_revision


def test_db_upgrade_of_a_fresh_store_prints_from_and_to(cli: Cli) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"from (empty) to {head_revision()}" in result.stdout
    again = cli("db", "upgrade")
    assert again.exit_code == 0
    assert "already at the newest revision" in again.stdout


def test_db_upgrade_json_reports_the_revisions(cli: Cli) -> None:
    doc = json.loads(cli("db", "upgrade", "--json").stdout)
    assert doc == {"database": doc["database"], "from": None, "to": head_revision(), "changed": True}
    assert json.loads(cli("db", "upgrade", "--json").stdout)["changed"] is False


def test_db_current_shows_current_and_head(cli: Cli) -> None:
    before = json.loads(cli("db", "current", "--json").stdout)
    assert before["current"] is None
    assert before["up_to_date"] is False
    cli("db", "upgrade")
    result = cli("db", "current")
    assert result.exit_code == 0
    assert "up to date" in result.stdout
    after = json.loads(cli("db", "current", "--json").stdout)
    assert after["current"] == after["head"] == head_revision()


def test_db_upgrade_migrates_a_postgresql_schema(pg_url: str, tmp_path: Path) -> None:
    cli = Cli({**cli_env_for(tmp_path / "home"), "STEWARD_DATABASE_URL": pg_url})
    result = cli("db", "upgrade", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["to"] == head_revision()
    assert json.loads(cli("db", "current", "--json").stdout)["up_to_date"] is True


def test_an_unreachable_database_exits_6(cli: Cli) -> None:
    result = cli("db", "current", STEWARD_DATABASE_URL="postgresql+psycopg://postgres:hunter2@127.0.0.1:1/none")
    assert result.exit_code == 6
    assert "unreachable" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.output


def test_db_commands_refuse_to_guess_the_database_behind_a_server(cli: Cli) -> None:
    result = cli("db", "upgrade", STEWARD_TRACKING_URI="http://127.0.0.1:1", STEWARD_DATABASE_URL=None)
    assert result.exit_code == 2
    assert "STEWARD_DATABASE_URL" in result.stderr
