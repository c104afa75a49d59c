"""``steward server`` safety, and every noun against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_testing import Cli, ServerLike, cli_env_for, client_settings, free_port, seed_runs

from steward import Client
from steward.cli._server import is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com", "192.168.0.10"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_server_refuses_a_non_loopback_address_without_allow_insecure(cli: Cli) -> None:
    result = cli("server", "--host", "0.0.0.0", "--port", str(free_port()), STEWARD_AUTH="off")
    assert result.exit_code == 2
    assert result.stderr.startswith("warning: authentication is off")
    assert "--allow-insecure" in result.stderr
    assert "Traceback" not in result.output


def test_server_rejects_an_out_of_range_port(cli: Cli) -> None:
    assert cli("server", "--port", "70000").exit_code == 2


def test_an_unreachable_server_exits_6_with_one_line(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["experiments", "list"], ["runs", "list", "--json"], ["runs", "show", "a" * 32], ["audit", "list"]):
        result = cli(*args, STEWARD_TRACKING_URI=url)
        assert result.exit_code == 6, args
        assert result.stdout == ""
        assert result.stderr.startswith(f"error: Steward server unreachable at {url}: cannot connect (")
        assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_every_command_works_against_a_live_server(live_server: ServerLike, tmp_path: Path) -> None:
    client = Client(client_settings(tmp_path / "unused", tracking_uri=live_server.url))
    try:
        seeded = seed_runs(client, tmp_path)
    finally:
        client.close()
    cli = Cli({**cli_env_for(tmp_path / "unused"), "STEWARD_TRACKING_URI": live_server.url})

    experiments = json.loads(cli("experiments", "list", "--json").stdout)["experiments"]
    assert [e["name"] for e in experiments] == ["churn"]

    found = cli("runs", "list", "--experiment", "churn", "--filter", "metrics.auc > 0.86", "--json")
    assert found.exit_code == 0, found.output
    assert [r["run_id"] for r in json.loads(found.stdout)["runs"]] == [seeded.gbm]
    table = cli("runs", "list")
    assert {line.split()[0] for line in table.stdout.splitlines()[1:]} == {seeded.gbm, seeded.lr, seeded.failed}

    bad = cli("runs", "list", "--filter", "metrics.auc >> 1")
    assert bad.exit_code == 2
    assert "position 13" in bad.stderr

    shown = json.loads(cli("runs", "show", seeded.failed, "--json").stdout)
    assert "ValueError: boom" in shown["failure"]
    assert "report.txt" in cli("runs", "show", seeded.gbm).stdout
    assert cli("runs", "show", "b" * 32).exit_code == 3

    compared = json.loads(cli("runs", "compare", seeded.gbm, seeded.lr, "--json").stdout)
    assert compared["differing_params"] == ["model"]

    assert cli("runs", "delete", seeded.lr).exit_code == 0
    remaining = {r["run_id"] for r in json.loads(cli("runs", "list", "--json").stdout)["runs"]}
    assert remaining == {seeded.gbm, seeded.failed}

    audit = json.loads(cli("audit", "list", "--target", f"runs:/{seeded.lr}", "--json").stdout)["entries"]
    assert audit[-1]["action"] == "runs.delete"
    assert all(e["actor"] for e in audit)
    assert "runs.delete" in cli("audit", "list", "--since", "1h").stdout

    assert cli("experiments", "create", "churn").exit_code == 5
    assert cli("experiments", "delete", "churn").exit_code == 0
    assert json.loads(cli("experiments", "list", "--json").stdout)["experiments"] == []
    assert cli("experiments", "delete", "nope").exit_code == 3
