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



@pytest.fixture(params=["embedded", "server"])
def any_cli(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[Cli]:
    """The CLI embedded on ``home``, or against a live ``steward server`` on ``home``'s store.

    In server mode the CLI's own ``STEWARD_HOME`` and database point at an empty folder, so a
    command that quietly opened the embedded store instead of calling the server would see
    nothing and fail its test. Write a command's tests with this fixture so that no command can
    be embedded-only by accident; seed data with ``Client(client_settings(home))``.
    """
    if request.param == "embedded":
        yield Cli(cli_env_for(home))
        return
    from live_server import LiveServer

    home.mkdir(parents=True, exist_ok=True)
    server = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_USER": "server",
            "STEWARD_AUTH": "off",
        }
    )
    try:
        env = cli_env_for(tmp_path / "not-the-store")
        env["STEWARD_TRACKING_URI"] = server.url
        yield Cli(env, server_url=server.url)
    finally:
        server.stop()
