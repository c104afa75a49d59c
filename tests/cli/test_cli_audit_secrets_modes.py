"""``steward audit list|verify|export`` and ``steward secrets ...`` embedded and against a live
server (``any_cli``), and ``audit verify`` as a non-administrator on an auth-on server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_testing import Cli, Seeded, cli_env_for, client_settings, seed_runs
from typer.testing import Result

from live_server import LiveServer
from steward import Client
from steward.cli import app
from steward.wiring import build_services


def _run(cli: Cli, *args: str, input: str | None = None) -> Result:
    return cli.runner.invoke(app, list(args), env=cli.env, input=input)


def _sql(home: Path, statement: str) -> None:
    engine = sa.create_engine(f"sqlite:///{home / 'steward.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def _seed(cli: Cli) -> None:
    assert _run(cli, "experiments", "create", "fraud").exit_code == 0
    assert _run(cli, "experiments", "create", "churn").exit_code == 0
    made = _run(cli, "secrets", "set", "API_KEY", input="s3cr3t-value\n")
    assert made.exit_code == 0, made.output


def _entries(home: Path) -> int:
    services = build_services(client_settings(home))
    try:
        return len(services.store.list_audit(limit=10_000))
    finally:
        services.store.close()


def test_audit_list_shows_who_did_what_in_both_modes(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    client = Client(client_settings(home))
    try:
        seeded: Seeded = seed_runs(client, tmp_path)
    finally:
        client.close()
    result = any_cli("audit", "list")
    assert result.exit_code == 0, result.output
    assert any(f"runs:/{seeded.gbm}" in line and "runs.create" in line for line in result.stdout.splitlines())
    doc = json.loads(any_cli("audit", "list", "--target", f"runs:/{seeded.lr}", "--json").stdout)
    assert doc["entries"] and all(e["target"].startswith(f"runs:/{seeded.lr}") for e in doc["entries"])


def test_verify_of_an_intact_chain_exits_0_and_prints_the_head(any_cli: Cli, home: Path) -> None:
    _seed(any_cli)
    count = _entries(home)
    result = any_cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"audit chain intact: {count} entries; head {count}:")
    doc = json.loads(any_cli("audit", "verify", "--json").stdout)
    assert doc["intact"] is True and doc["checked"] == count and doc["first_bad"] is None and doc["head"]["entry_id"] == count


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE entry_id = 2", 2),
        ("DELETE FROM audit_log WHERE entry_id = 2", 3),
    ],
    ids=["edited", "deleted"],
)
def test_verify_exits_1_and_names_the_first_bad_entry(any_cli: Cli, home: Path, tamper: str, first_bad: int) -> None:
    _seed(any_cli)
    _sql(home, tamper)
    result = any_cli("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"audit chain broken at entry {first_bad}:" in result.stderr and "Traceback" not in result.output
    doc = json.loads(any_cli("audit", "verify", "--json").stdout)
    assert doc["intact"] is False and doc["first_bad"]["entry_id"] == first_bad


def test_verify_against_a_recorded_head_catches_a_cut_tail(any_cli: Cli, home: Path) -> None:
    _seed(any_cli)
    head = json.loads(any_cli("audit", "verify", "--json").stdout)["head"]
    _sql(home, f"DELETE FROM audit_log WHERE entry_id = {head['entry_id']}")
    result = any_cli("audit", "verify", "--expect-head", f"{head['entry_id']}:{head['hash']}")
    assert result.exit_code == 1 and f"entry {head['entry_id']}" in result.stderr


def test_a_malformed_expected_head_is_a_usage_error(any_cli: Cli) -> None:
    result = any_cli("audit", "verify", "--expect-head", "three:abc")
    assert result.exit_code == 2 and "--expect-head" in result.stderr


def test_export_writes_json_lines_with_the_chain_and_never_a_secret_value(any_cli: Cli, tmp_path: Path) -> None:
    _seed(any_cli)
    result = any_cli("audit", "export")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["entry_id"] for e in lines] == list(range(1, len(lines) + 1))
    assert lines[0]["prev_hash"] == "0" * 64 and lines[1]["prev_hash"] == lines[0]["hash"]
    assert any(e["action"] == "secrets.set" and e["target"] == "secrets:/API_KEY" for e in lines)
    assert "s3cr3t-value" not in result.stdout
    out = tmp_path / "audit.jsonl"
    assert any_cli("audit", "export", "-o", str(out)).exit_code == 0
    assert out.read_text().splitlines() == result.stdout.splitlines()


def test_secrets_set_list_and_delete_in_both_modes_never_print_values(any_cli: Cli) -> None:
    made = _run(any_cli, "secrets", "set", "DB_PASSWORD", "--json", input="hunter2-value\n")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["version"] == 1 and "hunter2-value" not in made.output
    again = _run(any_cli, "secrets", "set", "DB_PASSWORD", input="other-value\n")
    assert again.exit_code == 0 and "version 2" in again.stderr
    listed = json.loads(any_cli("secrets", "list", "--json").stdout)["secrets"]
    assert [(s["name"], s["version"], s["updated_by"]) for s in listed] == [("DB_PASSWORD", 2, "tester")]
    assert "value" not in any_cli("secrets", "list").stdout
    assert any_cli("secrets", "delete", "DB_PASSWORD").exit_code == 0
    gone = any_cli("secrets", "delete", "DB_PASSWORD")
    assert gone.exit_code == 3 and "not found" in gone.stderr
    assert json.loads(any_cli("secrets", "list", "--json").stdout) == {"secrets": []}


# -- an auth-on server ---------------------------------------------------------------


@pytest.fixture
def auth_server(home: Path) -> Iterator[tuple[LiveServer, str, str]]:
    """``steward server`` with STEWARD_AUTH=on; (server, an administrator's token, a reviewer's token)."""
    services = build_services(client_settings(home))
    try:
        gov = services.governance("setup")
        admin = gov.bootstrap_admin("root", "root@example.com").secret
        root = services.governance("root")
        root.create_user("rita", "rita@example.com")
        root.grant_role("rita", "*", "reviewer")
        reviewer = root.create_token("rita").secret
    finally:
        services.close()
    server = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_AUTH": "on",
        }
    )
    yield server, admin, reviewer
    server.stop()


def test_audit_verify_and_export_need_an_administrator_on_an_auth_on_server(
    auth_server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    server, admin, reviewer = auth_server
    cli = Cli({**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": server.url})
    # a reviewer reads the trail but may not verify or export it: exit 4 naming the permission
    assert cli("audit", "list", "--json", STEWARD_TOKEN=reviewer).exit_code == 0
    for args in (["audit", "verify"], ["audit", "export"]):
        denied = cli(*args, STEWARD_TOKEN=reviewer)
        assert denied.exit_code == 4, denied.output
        assert "governance.admin" in denied.stderr and "Traceback" not in denied.output
    # and nothing was exported to stdout before the refusal
    assert cli("audit", "export", STEWARD_TOKEN=reviewer).stdout == ""
    ok = cli("audit", "verify", "--json", STEWARD_TOKEN=admin)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["intact"] is True
    exported = cli("audit", "export", STEWARD_TOKEN=admin)
    assert exported.exit_code == 0 and json.loads(exported.stdout.splitlines()[0])["entry_id"] == 1
    # no token at all: 401 is exit 4 with the reason
    anonymous = cli("audit", "verify")
    assert anonymous.exit_code == 4 and "authentication required" in anonymous.stderr
