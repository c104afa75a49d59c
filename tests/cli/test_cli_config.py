"""``steward config show``: effective settings with secrets masked."""

from __future__ import annotations

import json

from cli_testing import Cli


def test_config_show_lists_every_setting_with_its_source(cli: Cli) -> None:
    result = cli("config", "show")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith("STEWARD_")}
    assert rows["STEWARD_USER"][1:] == ["tester", "env"]
    assert rows["STEWARD_FLUSH_INTERVAL"][1:] == ["0.5", "default"]
    assert "embedded" in result.stdout


def test_config_show_masks_the_token_and_database_passwords(cli: Cli) -> None:
    result = cli(
        "config",
        "show",
        "--json",
        STEWARD_TOKEN="s3cret-token",
        STEWARD_DATABASE_URL="postgresql+psycopg://steward:hunter2@db.internal/steward",
        STEWARD_TRACKING_URI="http://127.0.0.1:5000",
    )
    assert result.exit_code == 0
    assert "s3cret-token" not in result.output
    assert "hunter2" not in result.output
    doc = json.loads(result.stdout)
    settings = {s["name"]: s for s in doc["settings"]}
    assert settings["token"]["value"] == "********"
    assert settings["token"]["source"] == "env"
    assert settings["database_url"]["value"] == "postgresql+psycopg://steward:***@db.internal/steward"
    assert doc["effective"]["mode"] == "server at http://127.0.0.1:5000"


def test_config_show_does_not_need_a_store(cli: Cli) -> None:
    result = cli("config", "show", STEWARD_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.exit_code == 0
