"""``steward experiments list|create|delete`` on an embedded store."""

from __future__ import annotations

import json

from cli_testing import Cli


def test_listing_no_experiments_prints_nothing_on_stdout_and_a_note_on_stderr(cli: Cli) -> None:
    result = cli("experiments", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No experiments" in result.stderr


def test_created_experiments_are_listed_as_a_plain_table_when_piped(cli: Cli) -> None:
    assert cli("experiments", "create", "churn").exit_code == 0
    assert cli("experiments", "create", "fraud", "--tag", "team=risk").exit_code == 0
    result = cli("experiments", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "CREATED"]
    assert [line.split()[1] for line in lines[1:]] == ["churn", "fraud"]
    assert lines[1].split()[2].endswith("Z")  # ISO-8601 UTC
    assert "│" not in result.stdout


def test_experiments_list_draws_a_rich_table_in_a_terminal(cli: Cli) -> None:
    cli("experiments", "create", "churn")
    result = cli("experiments", "list", TTY_COMPATIBLE="1")
    assert result.exit_code == 0
    assert "┃" in result.stdout or "│" in result.stdout
    assert "churn" in result.stdout


def test_experiments_list_json_is_one_document(cli: Cli) -> None:
    cli("experiments", "create", "churn", "--tag", "team=risk")
    result = cli("experiments", "list", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [e["name"] for e in doc["experiments"]] == ["churn"]
    assert doc["experiments"][0]["tags"] == {"team": "risk"}
    assert result.stderr == ""


def test_create_json_returns_the_stored_experiment(cli: Cli) -> None:
    result = cli("experiments", "create", "churn", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["name"] == "churn"
    assert doc["lifecycle_stage"] == "active"


def test_creating_a_duplicate_experiment_exits_5(cli: Cli) -> None:
    cli("experiments", "create", "churn")
    result = cli("experiments", "create", "churn")
    assert result.exit_code == 5
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output


def test_a_malformed_tag_option_exits_2(cli: Cli) -> None:
    result = cli("experiments", "create", "churn", "--tag", "no-equals-sign")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr


def test_an_experiment_can_be_deleted_by_name_or_by_id(cli: Cli) -> None:
    cli("experiments", "create", "churn")
    created = json.loads(cli("experiments", "create", "fraud", "--json").stdout)
    assert cli("experiments", "delete", "churn").exit_code == 0
    result = cli("experiments", "delete", created["experiment_id"], "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["lifecycle_stage"] == "deleted"
    assert json.loads(cli("experiments", "list", "--json").stdout)["experiments"] == []
    everything = cli("experiments", "list", "--all")
    assert "deleted" in everything.stdout
    assert "STAGE" in everything.stdout


def test_deleting_an_unknown_experiment_exits_3(cli: Cli) -> None:
    for ref in ("nope", "999"):
        result = cli("experiments", "delete", ref)
        assert result.exit_code == 3, ref
        assert "not found" in result.stderr
        assert "Traceback" not in result.output


def test_an_experiment_is_created_in_the_given_project_or_steward_project_or_its_own_name(cli: Cli) -> None:
    made = json.loads(cli("experiments", "create", "fraud-training", "--project", "fraud", "--json").stdout)
    assert made["project"] == "fraud"
    made = json.loads(cli("experiments", "create", "fraud-eval", "--json", STEWARD_PROJECT="fraud").stdout)
    assert made["project"] == "fraud"
    assert json.loads(cli("experiments", "create", "churn", "--json").stdout)["project"] == "churn"
    bad = cli("experiments", "create", "x", "--project", "*")
    assert bad.exit_code == 2 and "project" in bad.stderr
