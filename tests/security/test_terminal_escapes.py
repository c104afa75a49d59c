"""A name that attacks the terminal printing it.

Names are checked since ``steward.core.names`` (see test_input_hardening.py), but rows
stored before that check, written straight into the database or coming from a file
(column names) may still hold ESC sequences. ``\\x1b]0;pwned\\x07`` sets the terminal's
title when printed raw; the CLI prints it escaped, as text, in tables (terminal and
plain) and in error lines, and never reads rich markup in names.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from steward import Client


def _load_cli_testing() -> ModuleType:
    # tests/cli's helpers (the CLI runner with a clean environment); tests are not packages
    if "cli_testing" in sys.modules:
        return sys.modules["cli_testing"]
    path = Path(__file__).parent.parent / "cli" / "cli_testing.py"
    spec = importlib.util.spec_from_file_location("cli_testing", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cli_testing"] = module
    spec.loader.exec_module(module)
    return module


cli_testing = _load_cli_testing()

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
MARKUP = "[red]x[/red]"
POISON = f"churn{TITLE}{CLEAR}{MARKUP}\u202egnp"
SHOWN = "churn\\x1b]0;pwned\\x07\\x1b[2J[red]x[/red]\\u202egnp"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def poisoned(home: Path) -> Iterator[str]:
    """A store whose experiment, run and model names hold ESC sequences, markup and an RLO,
    written past the service (as rows stored before names were checked would be)."""
    client = Client(cli_testing.client_settings(home))
    try:
        with client.start_run("churn", name="r") as run:
            run_id = run.run_id
        client.services.registry("tester").create_model("fraud")
        engine = sa.create_engine(f"sqlite:///{home / 'steward.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE experiments SET name = :n"), {"n": POISON})
            conn.execute(sa.text("UPDATE runs SET name = :n"), {"n": POISON})
            conn.execute(sa.text("UPDATE registered_models SET owner = :n, description = :n"), {"n": POISON})
        engine.dispose()
        yield run_id
    finally:
        client.close()


@pytest.fixture
def cli(home: Path) -> object:
    return cli_testing.Cli(cli_testing.cli_env_for(home))


def _assert_escaped(output: str) -> None:
    assert TITLE not in output and "\x1b]" not in output and "\x07" not in output
    assert CLEAR not in output and "\u202e" not in output
    assert "\\x1b]0;pwned\\x07" in output and "\\u202e" in output
    assert MARKUP in output  # printed as typed, not read as rich markup


COMMANDS = pytest.mark.parametrize(
    "args", [["experiments", "list"], ["runs", "list"], ["models", "list"]], ids=["experiments", "runs", "models"]
)


@COMMANDS
def test_a_terminal_escape_in_a_stored_name_is_printed_escaped_as_plain_text(cli: object, poisoned: str, args: list[str]) -> None:
    result = cli(*args)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    _assert_escaped(result.output)


@COMMANDS
def test_a_terminal_escape_in_a_stored_name_is_printed_escaped_in_a_rich_table(cli: object, poisoned: str, args: list[str]) -> None:
    result = cli(*args, TTY_COMPATIBLE="1", NO_COLOR=None)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    _assert_escaped(result.output)


def test_json_output_keeps_the_name_exact_and_escaped_by_json(cli: object, poisoned: str) -> None:
    result = cli("experiments", "list", "--json")  # type: ignore[operator]
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    assert [e["name"] for e in json.loads(result.output)["experiments"]] == [POISON]


def test_an_error_line_quoting_a_hostile_name_is_escaped(cli: object, poisoned: str) -> None:
    result = cli("experiments", "create", f"evil{TITLE}")  # type: ignore[operator]
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert result.output.startswith("error: ") and "U+001B" in result.output


def test_a_run_show_block_prints_a_hostile_name_escaped(cli: object, poisoned: str) -> None:
    result = cli("runs", "show", poisoned)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    _assert_escaped(result.output)


def test_the_cli_refuses_a_filter_nested_past_the_limit_in_one_line(cli: object, poisoned: str) -> None:
    result = cli("runs", "list", "--filter", "(" * 3000 + "metrics.auc > 0.5" + ")" * 3000)  # type: ignore[operator]
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "deep" in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1
