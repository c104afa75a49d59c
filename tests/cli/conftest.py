"""CLI fixtures: the real ``steward`` app run by typer's CliRunner on an embedded store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testing import Cli, Seeded, cli_env_for, client_settings, seed_runs

from steward import Client


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli(home: Path) -> Cli:
    return Cli(cli_env_for(home))


@pytest.fixture
def seeded(home: Path, tmp_path: Path) -> Iterator[Seeded]:
    client = Client(client_settings(home))
    try:
        yield seed_runs(client, tmp_path)
    finally:
        client.close()

