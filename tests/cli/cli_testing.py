"""Helpers for the CLI tests (a module of its own: test files import it by name)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner, Result

from steward import Client, Settings
from steward.cli import app


class Cli:
    """Runs ``steward ARGS`` in-process with a controlled environment."""

    def __init__(self, env: dict[str, str | None], server_url: str | None = None) -> None:
        self.env = env
        self.runner = CliRunner()
        self.server_url = server_url  # set when the CLI talks to a live server (``any_cli``)

    @property
    def remote(self) -> bool:
        return self.server_url is not None

    def __call__(self, *args: str, **env: str | None) -> Result:
        return self.runner.invoke(app, list(args), env={**self.env, **env})


def cli_env_for(home: Path) -> dict[str, str | None]:
    """Environment for one embedded store; every other STEWARD_* variable is removed, so that
    the developer's or CI's own settings (e.g. STEWARD_TRACKING_URI) cannot leak in."""
    env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    env.update(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_USER": "tester",
            "STEWARD_CAPTURE_GIT": "false",
            "STEWARD_CAPTURE_PACKAGES": "false",
            # plain text unless a test asks for a terminal; wide enough that tables never wrap
            "TTY_COMPATIBLE": None,
            "FORCE_COLOR": None,
            "NO_COLOR": "1",
            "COLUMNS": "250",
        }
    )
    return env


def client_settings(home: Path, **overrides: object) -> Settings:
    """Settings equal to what the CLI reads from ``cli_env_for(home)``."""
    values: dict[str, object] = {
        "home": home,
        "database_url": f"sqlite:///{home / 'steward.db'}",
        "artifact_root": str(home / "artifacts"),
        "tracking_uri": None,
        "user": "tester",
        "capture_git": False,
        "capture_packages": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Seeded:
    """Run ids of the seeded store: two finished runs that differ in ``model``, one failed."""

    gbm: str
    lr: str
    failed: str


def seed_runs(client: Client, tmp_path: Path) -> Seeded:
    artifact = tmp_path / "report.txt"
    artifact.write_text("the report\n")
    with client.start_run("churn", name="gbm-run", params={"model": "gbm", "C": 1}, tags={"team": "fraud"}) as run:
        for step, auc in enumerate((0.80, 0.88, 0.91)):
            run.log_metric("auc", auc, step=step)
        run.log_metric("loss", 0.25)
        run.log_artifact(str(artifact))
        gbm = run.run_id
    with client.start_run("churn", name="lr-run", params={"model": "lr", "C": 1}) as run:
        run.log_metric("auc", 0.85)
        lr = run.run_id
    with pytest.raises(ValueError, match="boom"), client.start_run("churn", name="bad-run", params={"model": "svm"}) as run:
        failed = run.run_id
        raise ValueError("boom")
    return Seeded(gbm, lr, failed)


class ServerLike(Protocol):
    """What the CLI tests use of the shared ``live_server`` fixture."""

    url: str


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
