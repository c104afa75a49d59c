"""The attack: another local user reads the embedded store. Under a permissive umask
(0o000 and the usual 0o022) the SQLite file, its WAL and shared-memory files, the artifact
folder with every blob and temporary file, the audit checkpoints and the master key are
still created owner-only: 0600 files, 0700 folders."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.cli import app as cli_app
from steward.settings import Settings
from steward.wiring import build_services


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def permissive_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(previous)


def _loose(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and ``root``) whose mode is not owner-only."""
    found = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            found[str(path.relative_to(root.parent))] = oct(mode)
    return found


def test_the_embedded_store_and_everything_in_it_is_owner_only(permissive_umask: int, tmp_path: Path) -> None:
    home = tmp_path / "deep" / "home"
    services = build_services(Settings(home=home, user="tester", capture_git=False, capture_packages=False))
    try:
        tracking = services.tracking()
        run = tracking.create_run(tracking.create_experiment("modes").experiment_id)
        source = tmp_path / "model.bin"
        source.write_bytes(b"weights" * 100)
        tracking.log_artifact_file(run.run_id, str(source), "model/model.bin")  # copied through a temporary file
        tracking.log_artifact_bytes(run.run_id, b'{"auc": 0.9}', "metrics.json")  # written through mkstemp
        services.secrets().set_secret("API_KEY", "s3cr3t")  # creates the master key file
        assert services.audit(create_key=True).checkpoint() is not None
        # while the store is open its WAL and shared-memory files exist: they count too
        present = {p.name for p in home.iterdir()}
        assert {"steward.db", "steward.db-wal", "steward.db-shm", "master.key", "artifacts"} <= present
        assert len([p for p in (home / "artifacts" / "blobs" / "sha256").rglob("*") if p.is_file()]) == 2
        assert list((home / "artifacts" / "_audit" / "checkpoints").iterdir())
        assert _loose(home) == {}
    finally:
        services.close()
    assert _loose(home) == {}
    # the folders above home that Steward created are private too
    assert stat.S_IMODE((tmp_path / "deep").stat().st_mode) == 0o700


def test_a_cli_command_on_a_new_home_leaves_only_owner_only_files(permissive_umask: int, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env: dict[str, str | None] = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
    env.update(STEWARD_HOME=str(home), STEWARD_USER="tester", STEWARD_CAPTURE_GIT="false", STEWARD_CAPTURE_PACKAGES="false")
    result = CliRunner().invoke(cli_app, ["experiments", "create", "fraud"], env=env)
    assert result.exit_code == 0, result.output
    assert (home / "steward.db").exists() and (home / "master.key").exists()  # the exit checkpoint made the key
    assert _loose(home) == {}


def test_an_existing_folder_chosen_by_the_operator_keeps_its_mode(permissive_umask: int, tmp_path: Path) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o750)
    services = build_services(Settings(home=shared / "home", artifact_root=str(shared / "artifacts"), user="tester"))
    services.close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o750
    assert stat.S_IMODE((shared / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "home" / "steward.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((shared / "artifacts").stat().st_mode) == 0o700


def test_steward_login_creates_the_home_it_saves_credentials_in_owner_only(permissive_umask: int, tmp_path: Path) -> None:
    from steward.cli._governance import save_credentials

    home = tmp_path / "fresh" / "home"
    path = save_credentials(Settings(home=home), "http://127.0.0.1:5000", "stw_token")
    assert path.is_file() and _loose(tmp_path / "fresh") == {}
