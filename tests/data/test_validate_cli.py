"""``steward data infer|validate|skew|suites`` and ``steward check`` on a real embedded store: bad input.

The main flows run embedded and against a server in tests/cli/test_cli_data_modes.py."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from steward import Settings
from steward.cli import app


class Cli:
    def __init__(self, home: Path) -> None:
        self.env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
        self.env.update(
            {"STEWARD_HOME": str(home), "STEWARD_USER": "tester", "NO_COLOR": "1", "COLUMNS": "250", "TTY_COMPATIBLE": None, "FORCE_COLOR": None}
        )
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), env=self.env)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.parquet"
    pl.DataFrame(
        {"id": range(1, 9), "amount": [1.0, 2.5, None, 4.0, 3.0, 2.0, 1.5, 4.0], "country": ["DE", "FR", "DE", "NL"] * 2}
    ).write_parquet(path)
    return path


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "damaged.csv"
    path.write_text("id,amount,country\n1,1.0,DE\n2,-7.0,XX\n2,abc,FR\n")
    return path


def test_validate_prints_failures_and_exits_1_on_a_damaged_file(cli: Cli, good: Path, damaged: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    cli("data", "infer", str(good), "--name", "orders", "--out", str(suite), "--no-store")
    result = cli("data", "validate", str(damaged), "--suite", str(suite))
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    assert "abc" in result.stdout  # the mixed-type column's offending value is shown
    document = json.loads(cli("data", "validate", str(damaged), "--suite", str(suite), "--json").stdout)
    failed = {(c["name"], c["column"]) for c in document["checks"] if not c["passed"]}
    assert {("type", "amount"), ("allowed", "country"), ("unique", "id")} <= failed


def test_a_suite_naming_a_missing_column_fails_with_the_column_and_line(cli: Cli, good: Path, tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncolumns:\n  customer: {type: string}\n")
    result = cli("data", "validate", str(good), "--suite", str(suite))
    assert result.exit_code == 1
    assert "'customer'" in result.stdout and "line 3" in result.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"PAR1 this is not really parquet", "truncated, corrupt or not Parquet"),
        (b"\x00\x01\x02", "unknown format"),
    ],
)
def test_unreadable_files_exit_2_with_one_clear_line(cli: Cli, tmp_path: Path, content: bytes, fragment: str) -> None:
    bad = tmp_path / ("bad.parquet" if content.startswith(b"PAR1") else "bad.bin")
    bad.write_bytes(content)
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\n")
    result = cli("data", "validate", str(bad), "--suite", str(suite))
    assert result.exit_code == 2
    assert fragment in result.output and "Traceback" not in result.output


def test_a_truncated_parquet_file_is_refused(cli: Cli, good: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    result = cli("data", "validate", str(cut), "--suite", "whatever")
    assert result.exit_code in (2, 3) and "error:" in result.output and "Traceback" not in result.output


def test_a_malformed_suite_exits_2_naming_the_line_and_stores_nothing(cli: Cli, good: Path, tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncolumns:\n  id: {type: integr}\n")
    result = cli("data", "validate", str(good), "--suite", str(suite))
    assert result.exit_code == 2 and "suite line 3" in result.output
    assert cli("data", "suites", "list", "--json").stdout.strip() == "[]"


def test_an_unknown_stored_suite_exits_3(cli: Cli, good: Path) -> None:
    result = cli("data", "validate", str(good), "--suite", "nope")
    assert result.exit_code == 3 and "not found" in result.output


def test_inferring_from_an_empty_table_exits_2_and_stores_nothing(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    pl.DataFrame({"a": []}, schema={"a": pl.Int64}).write_parquet(empty)
    result = cli("data", "infer", str(empty), "--name", "s")
    assert result.exit_code == 2 and ("empty" in result.output or "no rows" in result.output)
    assert cli("data", "suites", "list", "--json").stdout.strip() == "[]"


def test_steward_check_accepts_a_valid_suite_and_lists_faults_by_line(cli: Cli, tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text("name: s\ncolumns:\n  a: {type: integer}\n")
    assert cli("check", str(ok)).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: s\ncolumns:\n  a: {type: integr}\n  b:\n    colour: red\n")
    result = cli("check", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.output and f"{bad}:5:" in result.output
    doc = json.loads(cli("check", str(bad), "--json").stdout)
    assert [e["line"] for e in doc["errors"]] == [3, 5]
