"""``steward import mlflow`` with the real mlflow package (in its own venv): experiments,
runs with full metric history, params, tags and artifacts, registered models, versions and
aliases arrive, and a second import changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from steward import Settings
from steward.cli import app
from steward.errors import InvalidInputError
from steward.migrate import export_mlflow, steward_model_name
from steward.wiring import build_services

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = ROOT / "bench" / ".venv-mlflow" / "bin" / "python"



def make_store(python: Path, folder: Path) -> Any:  # Any: decoded JSON
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "STEWARD_"))}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    script = Path(__file__).parent / "mlflow_scripts" / "make_store.py"
    proc = subprocess.run([str(python), str(script), str(folder)], capture_output=True, text=True, env=env, cwd=folder, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_model_names_become_steward_names() -> None:
    assert steward_model_name("Churn Model") == "Churn-Model"
    assert steward_model_name("ElasticnetWineModel") == "ElasticnetWineModel"
    assert steward_model_name("  ---  ") == "model"


def test_exporting_with_a_python_without_mlflow_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="has no mlflow"):
        export_mlflow("sqlite:///nothing.db", tmp_path / "out")


@pytest.mark.slow
def test_an_mlflow_store_is_imported_completely_and_idempotently(mlflow_python: Path, tmp_path: Path) -> None:
    made = make_store(mlflow_python, tmp_path)
    home = tmp_path / "home"
    env: dict[str, str | None] = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
    env.update({"STEWARD_HOME": str(home), "STEWARD_USER": "migrator", "STEWARD_CAPTURE_GIT": "false"})
    args = ["import", "mlflow", "--tracking-uri", made["uri"], "--python", str(mlflow_python), "--json"]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)["imported"]
    assert summary["runs_created"] == 3 and summary["versions_created"] == 2 and summary["aliases_set"] == 1
    assert summary["metric_points"] == 2 * 6

    services = build_services(Settings(home=home, user="checker", capture_git=False))
    try:
        tracking, registry = services.tracking(), services.registry()
        exp = tracking.get_experiment_by_name("churn")
        assert exp is not None and exp.tags["team"] == "growth"
        good, _, broken = made["run_ids"]
        run = tracking.get_run(good)
        assert run.name == "lr-0.1" and run.status.value == "finished" and run.experiment_id == exp.experiment_id
        assert run.params == {"lr": "0.1", "depth": "3"}
        assert run.tags["stage"] == "dev" and run.tags["mlflow.run_id"] == good
        history = [(m.step, m.value, m.timestamp) for m in tracking.get_metric_history(good, "loss")]
        assert history == [(s, 1.0 / (s + 1) + 0.1, 1_700_000_000_000 + s) for s in range(5)]
        assert run.metrics["auc"].value == pytest.approx(0.9)
        assert tracking.read_artifact(good, "reports/notes.txt") == b"notes for 0.1\n"
        assert tracking.get_run(broken).status.value == "failed"

        model = registry.get_model("Churn-Model")
        assert model.tags["mlflow.name"] == "Churn Model" and model.tags["domain"] == "retention"
        versions = sorted(registry.list_versions("Churn-Model").versions, key=lambda v: v.version)
        assert [v.tags["mlflow.version"] for v in versions] == ["1", "2"]
        assert [v.run_id for v in versions] == made["run_ids"][:2]
        assert versions[1].tags["validated"] == "yes" and versions[0].flavor == "mlflow"
        assert model.aliases == {"champion": 1}
        files = [a.path for a in tracking.list_artifacts(good, versions[0].artifact_path)]
        assert f"{versions[0].artifact_path}/MLmodel" in files
        # imported versions pin their files too: later changes to the run do not reach them
        pinned = registry.list_version_files("Churn-Model", versions[0].version)
        assert sorted(f"{versions[0].artifact_path}/{f.path}" for f in pinned) == sorted(files)
        audit_before = len(services.store.list_audit(limit=100_000))
    finally:
        services.close()

    second = CliRunner().invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)["imported"]
    assert again["runs_created"] == 0 and again["runs_existing"] == 3
    assert again["versions_created"] == 0 and again["versions_existing"] == 2 and again["aliases_set"] == 0
    assert again["experiments_created"] == 0 and again["models_created"] == 0 and again["artifacts"] == 0
    services = build_services(Settings(home=home, user="checker", capture_git=False))
    try:
        assert len(services.store.list_audit(limit=100_000)) == audit_before
        assert len(services.registry().list_versions("Churn-Model").versions) == 2
    finally:
        services.close()
