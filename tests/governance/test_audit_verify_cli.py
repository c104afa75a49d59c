"""``steward audit verify`` and ``steward audit export`` on an embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from steward.cli import app
from steward.settings import Settings


@pytest.fixture
def cli(tmp_path: Path) -> Runner:
    return Runner(tmp_path / "home")


class Runner:
    """``steward ...`` in-process on one embedded store; no other STEWARD_* leaks in."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = f"sqlite:///{home / 'steward.db'}"
        self.env: dict[str, str | None] = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
        self.env.update(
            STEWARD_HOME=str(home), STEWARD_DATABASE_URL=self.url, STEWARD_USER="tester",
            STEWARD_CAPTURE_GIT="false", STEWARD_CAPTURE_PACKAGES="false", NO_COLOR="1", COLUMNS="250",
        )
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        return self.runner.invoke(app, list(args), env={**self.env, **env}, input=input)

    def sql(self, statement: str) -> None:
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
        engine.dispose()


def _seed(cli: Runner) -> None:
    assert cli("experiments", "create", "fraud").exit_code == 0
    assert cli("experiments", "create", "churn").exit_code == 0
    assert cli("secrets", "set", "API_KEY", input="s3cr3t-value\n").exit_code == 0


def test_verify_of_an_intact_chain_exits_0_and_prints_the_head(cli: Runner) -> None:
    _seed(cli)
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("audit chain intact: 3 entries; head 3:")
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["intact"] is True and doc["checked"] == 3 and doc["first_bad"] is None and doc["head"]["entry_id"] == 3


@pytest.mark.parametrize(
    "tamper, first_bad",
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE entry_id = 2", 2),
        ("DELETE FROM audit_log WHERE entry_id = 2", 3),
        ("UPDATE audit_log SET entry_id = 99 WHERE entry_id = 1", 2),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_verify_exits_1_and_names_the_first_bad_entry(cli: Runner, tamper: str, first_bad: int) -> None:
    _seed(cli)
    cli.sql(tamper)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"audit chain broken at entry {first_bad}:" in result.stderr
    assert "Traceback" not in result.output
    doc = json.loads(cli("audit", "verify", "--json").stdout)
    assert doc["intact"] is False and doc["first_bad"]["entry_id"] == first_bad


def test_verify_against_a_recorded_head_catches_a_cut_tail(cli: Runner) -> None:
    _seed(cli)
    head = json.loads(cli("audit", "verify", "--json").stdout)["head"]
    cli.sql("DELETE FROM audit_log WHERE entry_id = 3")
    # each command signed the head on exit, so the cut shows even without --expect-head
    # (tests/security/test_audit_truncation.py covers that side)
    assert cli("audit", "verify").exit_code == 1
    result = cli("audit", "verify", "--expect-head", f"{head['entry_id']}:{head['hash']}")
    assert result.exit_code == 1 and "entry 3" in result.stderr


def test_a_malformed_expected_head_is_a_usage_error(cli: Runner) -> None:
    result = cli("audit", "verify", "--expect-head", "three:abc")
    assert result.exit_code == 2 and "--expect-head" in result.stderr


def test_export_writes_json_lines_with_the_chain_and_never_a_secret_value(cli: Runner, tmp_path: Path) -> None:
    _seed(cli)
    result = cli("audit", "export")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["entry_id"] for e in lines] == [1, 2, 3]
    assert lines[0]["prev_hash"] == "0" * 64 and lines[1]["prev_hash"] == lines[0]["hash"]
    assert lines[2]["action"] == "secrets.set" and lines[2]["target"] == "secrets:/API_KEY"
    assert "s3cr3t-value" not in result.stdout
    out = tmp_path / "audit.jsonl"
    assert cli("audit", "export", "-o", str(out)).exit_code == 0
    assert out.read_text().splitlines() == result.stdout.splitlines()


def test_verify_against_an_unreachable_server_is_exit_6_naming_it(cli: Runner) -> None:
    # verify works against a server too (tests/cli/test_cli_audit_secrets_modes.py)
    result = cli("audit", "verify", STEWARD_TRACKING_URI="http://127.0.0.1:9")
    assert result.exit_code == 6 and "http://127.0.0.1:9" in result.stderr
