"""The root command: help, version, global --debug, usage errors, python -m steward."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_testing import Cli

from steward import __version__
from steward.cli._errors import report
from steward.errors import ConflictError


def test_python_dash_m_steward_help_lists_every_noun() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "steward", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for noun in ("server", "db", "config", "experiments", "runs", "audit"):
        assert noun in result.stdout


def test_version_prints_the_package_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"steward {__version__}"


def test_an_unknown_command_is_a_usage_error_with_exit_2(cli: Cli) -> None:
    result = cli("frobnicate")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_missing_argument_is_a_usage_error_with_exit_2(cli: Cli) -> None:
    result = cli("runs", "show")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_errors_are_one_stderr_line_without_traceback(cli: Cli) -> None:
    result = cli("runs", "show", "0" * 32)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: run ")
    assert "not found" in result.stderr
    assert "Traceback" not in result.output


def test_debug_adds_the_traceback_before_the_error_line(cli: Cli) -> None:
    result = cli("--debug", "runs", "show", "0" * 32)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "NotFoundError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: run ")


def test_an_invalid_setting_names_the_variable_but_not_its_value(cli: Cli) -> None:
    result = cli("experiments", "list", STEWARD_FLUSH_INTERVAL="7.5")
    assert result.exit_code == 2
    assert "STEWARD_FLUSH_INTERVAL" in result.stderr
    assert "7.5" not in result.stderr
    assert "Traceback" not in result.output


def test_an_unsupported_database_url_is_a_usage_error(cli: Cli) -> None:
    result = cli("runs", "list", STEWARD_DATABASE_URL="mysql://db.example/steward")
    assert result.exit_code == 2
    assert "not supported" in result.stderr
    assert "Traceback" not in result.output


def test_an_unexpected_error_is_still_one_line_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code = report(RuntimeError("disk\nexploded"), debug=False)
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == "error: unexpected RuntimeError: disk exploded; rerun with --debug to see the traceback\n"
    assert captured.out == ""


def test_a_steward_error_exits_with_its_class_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert report(ConflictError("run is finished"), debug=False) == 5
    assert capsys.readouterr().err == "error: run is finished\n"
