"""The real ``mlflow`` 3 client's model registry against a live Steward server, and the
versions it registers used by Steward: ``steward.models.load`` (embedded and through the
server), ``steward models package`` and ``steward serve``.

The client runs from its own venv (``bench/.venv-mlflow``; see ``test_mlflow_compat.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from test_mlflow_compat import run_mlflow_script
from typer.testing import CliRunner

import steward.models
from live_server import free_port
from steward.cli import app as cli_app
from steward.settings import Settings
from steward.wiring import Services

NAME = "ElasticnetWineModel"


def _expected(workdir: Path) -> tuple[pd.DataFrame, np.ndarray]:  # the script's data and predictions
    saved = json.loads((workdir / "expected.json").read_text())
    return pd.DataFrame(saved["rows"], columns=saved["columns"]), np.asarray(saved["predictions"])


@pytest.mark.slow
def test_the_mlflow_client_registers_aliases_searches_stages_and_loads_through_steward(
    mlflow_python: Path, live_server: Any, settings: Settings, services: Services, tmp_path: Path
) -> None:
    out = run_mlflow_script(mlflow_python, "registry_client.py", live_server.url, str(tmp_path), cwd=tmp_path)

    # what the mlflow client saw
    first = out["first"]
    assert (first["name"], first["version"], first["status"]) == (NAME, "1", "READY")
    assert first["run_id"] == first["run"] and first["source"] == f"runs:/{first['run']}/model"
    assert out["second"]["version"] == "2" and out["second"]["source"] == f"models:/{out['second']['logged_model_id']}"
    assert out["by_alias"] == "1"
    assert out["model"] == {
        "name": NAME, "description": "wine quality regression", "tags": {"team": "wine"},
        "aliases": {"champion": "1", "challenger": "2"}, "latest": [["2", "None"]],
    }
    assert out["v2"] == {"tags": {"validated": "yes"}, "aliases": ["challenger"], "stage": "None"}
    assert out["search_models"] == [NAME] and out["search_like"] == [NAME]
    assert out["search_versions"] == ["1", "2"] and out["search_by_run"] == ["1"]
    assert out["staged"] == "Staging" and out["latest_staging"] == ["2"]
    assert out["production_without_approval"] == "INVALID_PARAMETER_VALUE"  # Steward needs an approval first
    assert out["alias_max_error"] < 1e-9 and out["version_max_error"] < 1e-9
    assert out["download_uri"].startswith("mlflow-artifacts:/") and out["download_uri"].endswith("/artifacts/model")
    assert (out["deleted"], out["duplicate"], out["rename"]) == ("RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS", "ENDPOINT_NOT_FOUND")

    # what Steward keeps: both versions pinned, MLflow-format, in Steward's lifecycle
    x, expected = _expected(tmp_path)
    registry = services.registry("tester")
    one, two = registry.get_version(NAME, 1), registry.get_version(NAME, 2)
    assert (one.flavor, two.flavor) == ("mlflow", "mlflow")
    assert (one.state.value, two.state.value) == ("candidate", "approved")
    assert two.logged_model_id == out["second"]["logged_model_id"]
    assert "MLmodel" in {f.path for f in registry.list_version_files(NAME, 2)}
    assert one.description == "first fit" and one.aliases == ["champion"]

    # steward.models.load, embedded and through the server, predicts what the original did
    embedded = steward.models.load(f"models:/{NAME}/1", settings=settings, trusted=True)
    np.testing.assert_allclose(embedded.predict(x), expected)
    remote = Settings(tracking_uri=live_server.url, capture_git=False)
    np.testing.assert_allclose(steward.models.load(f"models:/{NAME}/2", settings=remote, trusted=True).predict(x), expected)
    np.testing.assert_allclose(steward.models.load(f"{NAME}@champion", settings=remote).predict(x), expected)

    # steward models package: a bundle whose Dockerfile check loads it
    env = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
    env.update({"STEWARD_TRACKING_URI": live_server.url, "STEWARD_CAPTURE_GIT": "false"})
    packaged = CliRunner().invoke(cli_app, ["models", "package", f"{NAME}:1", "--out", str(tmp_path / "bundle")], env=env)
    assert packaged.exit_code == 0, packaged.output
    np.testing.assert_allclose(steward.models.load_bundle(tmp_path / "bundle").predict(x), expected)

    # steward serve answers with the MLflow model's predictions, checked against its signature
    _serve_and_predict(settings, x, expected)


def _serve_and_predict(settings: Settings, x: pd.DataFrame, expected: np.ndarray) -> None:
    port = free_port()
    env = {
        **os.environ,
        "STEWARD_HOME": str(settings.home), "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(), "STEWARD_USER": "server", "STEWARD_CAPTURE_GIT": "false",
    }
    env.pop("STEWARD_TRACKING_URI", None)
    settings.home.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing else made it
    log = settings.home / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "steward", "serve", f"{NAME}@champion", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            body = {"columns": list(x.columns), "data": x.head(20).values.tolist()}
            answer = httpx.post(f"{url}/predict", json=body, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["model_name"] == NAME and answer.json()["model_version"] == "1"
            np.testing.assert_allclose(answer.json()["predictions"], expected[:20])
            missing = httpx.post(f"{url}/predict", json={"columns": ["alcohol"], "data": [[1.0]]}, timeout=30)
            assert missing.status_code in (400, 422) and "malic_acid" in missing.text
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.slow
# SQLite only: the MLflow client drives the same API on either store; the registry and tracking
# stores are tested on PostgreSQL by their own tests, and this run costs 20 s of CI per store
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_mlflow_model_imported_with_steward_import_mlflow_keeps_its_name_and_predicts(
    mlflow_python: Path, settings: Settings, tmp_path: Path
) -> None:
    store = tmp_path / "mlflow-store"
    store.mkdir()
    made = run_mlflow_script(mlflow_python, "make_wine_store.py", str(store), cwd=store)
    env = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
    env.update({
        "STEWARD_HOME": str(settings.home), "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(), "STEWARD_USER": "migrator", "STEWARD_CAPTURE_GIT": "false",
    })
    args = ["import", "mlflow", "--tracking-uri", made["uri"], "--python", str(mlflow_python), "--json"]
    imported = CliRunner().invoke(cli_app, args, env=env)
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["imported"]["versions_created"] == 1

    x, expected = _expected(store)
    predictor = steward.models.load("models:/ElasticnetWineModel/1", settings=settings, trusted=True)
    assert predictor.flavor == "mlflow" and predictor.signature is not None
    np.testing.assert_allclose(predictor.predict(x), expected)
