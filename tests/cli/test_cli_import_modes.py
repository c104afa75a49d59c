"""``steward import mlflow`` embedded and against a live server (``any_cli``), with the real
mlflow package in its own venv; and who may import into a server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_testing import Cli, client_settings
from pydantic import SecretStr

from steward import Client
from steward.errors import PermissionDeniedError
from steward.wiring import build_services

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = ROOT / "bench" / ".venv-mlflow" / "bin" / "python"


def _make_store(folder: Path) -> Any:  # Any: decoded JSON
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEWARD_"))}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    script = ROOT / "tests" / "migrate" / "mlflow_scripts" / "make_store.py"
    proc = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), str(folder)], capture_output=True, text=True, env=env, cwd=folder, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _changes(services: Any) -> int:  # Any: steward.wiring.Services
    return len([e for e in services.store.list_audit(limit=100_000) if not e.action.startswith("uploads.")])


@pytest.mark.slow
@pytest.mark.usefixtures("mlflow_python")
def test_an_mlflow_store_is_imported_completely_and_idempotently_in_both_modes(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    made = _make_store(tmp_path)
    args = ["import", "mlflow", "--tracking-uri", made["uri"], "--python", str(MLFLOW_PYTHON), "--json"]
    first = any_cli(*args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)["imported"]
    assert summary["runs_created"] == 3 and summary["versions_created"] == 2 and summary["aliases_set"] == 1
    assert summary["metric_points"] == 2 * 6
    services = build_services(client_settings(home, user="checker"))
    try:
        good, _, broken = made["run_ids"]
        run = services.tracking().get_run(good)
        assert run.name == "lr-0.1" and run.params == {"lr": "0.1", "depth": "3"} and run.user != ""
        assert services.tracking().read_artifact(good, "reports/notes.txt") == b"notes for 0.1\n"
        assert services.tracking().get_run(broken).status.value == "failed"
        models = services.registry().list_models()
        assert len(models.models if hasattr(models, "models") else models) == 1
        audit_before = _changes(services)
    finally:
        services.close()
    second = any_cli(*args)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)["imported"]
    assert again["runs_created"] == 0 and again["runs_existing"] == 3
    assert again["versions_created"] == 0 and again["versions_existing"] == 2
    services = build_services(client_settings(home, user="checker"))
    try:
        # nothing imported twice; a server also records the upload session of the export
        assert _changes(services) == audit_before
    finally:
        services.close()


def test_importing_into_a_server_needs_an_administrator(auth_server: tuple[str, str, str], tmp_path: Path) -> None:
    url, admin, contributor = auth_server
    dump = tmp_path / "export"
    dump.mkdir()
    (dump / "dump.jsonl").write_text("")
    settings = client_settings(tmp_path / "not-the-store")
    client = Client(settings.model_copy(update={"tracking_uri": url, "token": SecretStr(contributor)}))
    try:
        with pytest.raises(PermissionDeniedError, match="governance.admin"):
            client.imports.import_mlflow(dump)
    finally:
        client.close()
    client = Client(settings.model_copy(update={"tracking_uri": url, "token": SecretStr(admin)}))
    try:
        assert client.imports.import_mlflow(dump).runs_created == 0
    finally:
        client.close()


@pytest.fixture
def auth_server(home: Path) -> Any:  # Any: a generator of (url, admin token, contributor token)
    from live_server import LiveServer

    services = build_services(client_settings(home))
    try:
        admin = services.governance("setup").bootstrap_admin("root", "root@example.com").secret
        root = services.governance("root")
        root.create_user("cody", "cody@example.com")
        root.grant_role("cody", "*", "contributor")
        contributor = root.create_token("cody").secret
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
    yield server.url, admin, contributor
    server.stop()
