"""The CLI starts fast: the root imports no command module until one is used."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_testing import Cli, cli_env_for

from steward.cli._app import COMMANDS, LazyGroup, app

ROOT = Path(__file__).resolve().parents[2]
# Modules the root's help must not pay for: the model libraries, the data stage's frames,
# the server, and the services behind every command.
HEAVY = ("sklearn", "polars", "pyarrow", "fastapi", "steward.registry", "steward.wiring", "steward.sdk", "sqlalchemy")

_IMPORTED = """
import json, sys
import steward.cli
try:
    steward.cli.app({args!r})
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED.format(args=args)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )
    return set(json.loads(result.stderr.splitlines()[-1]))


def _heavy(modules: set[str], heavy: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


def test_the_root_help_imports_no_command_module_nor_anything_heavy() -> None:
    modules = _modules_after(["--help"])
    assert _heavy(modules, HEAVY) == []
    assert _heavy(modules, ("steward.core", "pydantic_settings")) == []  # the entities come with the first command
    assert [m for m in modules if m.startswith("steward.cli.") and m not in ("steward.cli._app", "steward.cli._errors")] == []


def test_listing_runs_imports_neither_the_model_libraries_nor_the_server(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env_for(tmp_path / "home").items() if v is not None}
    env["PATH"] = "/usr/bin:/bin"
    _modules_after(["runs", "list"], env)  # the first use creates and migrates the store
    modules = _modules_after(["runs", "list"], env)
    assert "steward.cli._runs" in modules
    assert _heavy(modules, ("sklearn", "polars", "pyarrow", "duckdb", "argon2", "fastapi", "steward.registry", "steward.data", "steward.features", "alembic", "numpy", "httpx")) == []


def test_every_command_of_the_cli_reference_resolves() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = sorted({tuple(m.split()) for m in re.findall(r"`steward ([a-z][a-z0-9 -]*)", reference)})
    assert len(paths) > 40
    unresolved = []
    for path in paths:
        result = Cli({"COLUMNS": "200", "NO_COLOR": "1"})(*path, "--help")
        if result.exit_code != 0 or "Usage:" not in result.output:
            unresolved.append(" ".join(path))
    assert unresolved == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_help_the_root_shows_is_the_commands_own(name: str) -> None:
    import typer.main

    group = typer.main.get_command(app)
    assert isinstance(group, LazyGroup)
    command = group.get_command(None, name)  # type: ignore[arg-type, unused-ignore]  # no context needed
    assert command is not None and command.name == name
    own = (command.short_help or command.help or "").split("\n\n")[0].strip()
    assert COMMANDS[name][1] == own


def test_a_mistyped_command_suggests_the_lazy_one() -> None:
    result = Cli({"COLUMNS": "200", "NO_COLOR": "1"})("rnus", "list")
    assert result.exit_code == 2
    assert "Did you mean 'runs'?" in result.output
