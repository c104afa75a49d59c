"""The manifest of a version: every file pinned by sha256 at registration, on both engines."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from registry_testing import fitted_logistic, log_and_register, training_frame

import steward.models
from steward import Client, Settings
from steward.adapters.sql import SqlStore, _migrate, upgrade
from steward.errors import IntegrityError, NotFoundError
from steward.registry import RegistryService, VersionFile
from steward.wiring import Services

MODEL_DATA = "data/model.skops"


def test_a_version_pins_every_file_of_its_model_folder_with_digest_and_size(
    client: Client, registry: RegistryService, api: httpx.Client
) -> None:
    model, example = fitted_logistic()
    version = log_and_register(client, model, example)
    in_run = client.list_artifacts(version.run_id, version.artifact_path)
    expected = [VersionFile(a.path.removeprefix(version.artifact_path + "/"), a.digest, a.size) for a in in_run]

    assert registry.list_version_files("fraud", version.version) == expected
    assert {f.path for f in expected} >= {"steward-model.json", "MANIFEST.json", MODEL_DATA}
    listed = api.get(f"/api/v1/models/fraud/versions/{version.version}/files").json()["files"]
    assert listed == [{"path": f.path, "digest": f.digest, "size": f.size} for f in expected]
    for file in expected:
        body = api.get(f"/api/v1/models/fraud/versions/{version.version}/files/{file.path}").content
        assert (hashlib.sha256(body).hexdigest(), len(body)) == (file.digest, file.size)


def test_unknown_versions_and_files_are_not_found(client: Client, registry: RegistryService, api: httpx.Client) -> None:
    model, example = fitted_logistic()
    log_and_register(client, model, example)
    with pytest.raises(NotFoundError):
        registry.list_version_files("fraud", 9)
    assert api.get("/api/v1/models/fraud/versions/9/files").status_code == 404
    missing = api.get("/api/v1/models/fraud/versions/1/files/data/other.bin")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "path"


def _overwrite_model_data(client: Client, run_id: str) -> None:
    """Log a model of the opposite target over the run's model files (a new run's bytes)."""
    from sklearn.linear_model import LogisticRegression

    frame, target = training_frame()
    flipped = LogisticRegression(max_iter=500).fit(frame, 1 - target)
    with client.start_run("scratch") as scratch:
        scratch.log_model(flipped, "fraud", input_example=frame.head(5))
    for info in client.list_artifacts(scratch.run_id, "models/fraud"):
        client.backend.log_artifact_bytes(run_id, client.read_artifact(scratch.run_id, info.path), info.path)


def test_the_migration_backfills_versions_registered_before_it_from_their_runs_files(
    settings: Settings, client: Client, registry: RegistryService, store: SqlStore
) -> None:
    model, example = fitted_logistic()
    version = log_and_register(client, model, example)
    pinned = registry.list_version_files("fraud", version.version)
    # back to the schema before manifests, then forward again
    cfg = _migrate._config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008_projects")
    with store.engine.connect() as conn:
        assert "model_version_files" not in sa.inspect(conn).get_table_names()
    upgrade(store.engine)
    assert registry.list_version_files("fraud", version.version) == pinned
    assert (registry.load("fraud:1").predict(example) == model.predict(example)).all()


def test_a_version_without_manifest_rows_still_loads_the_runs_files(
    client: Client, registry: RegistryService, store: SqlStore
) -> None:
    model, example = fitted_logistic()
    log_and_register(client, model, example)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM model_version_files"))
    assert registry.list_version_files("fraud", 1) == []
    assert (registry.load("fraud:1").predict(example) == model.predict(example)).all()


def test_loading_from_a_server_reads_the_pinned_files_and_refuses_a_changed_one(
    settings: Settings, services: Services, client: Client, live_server: Any  # Any: conftest's LiveServer
) -> None:
    model, example = fitted_logistic()
    version = log_and_register(client, model, example)
    _overwrite_model_data(client, version.run_id)
    remote = Settings(tracking_uri=live_server.url, home=settings.home, capture_git=False)
    assert (steward.models.load("fraud:1", settings=remote).predict(example) == model.predict(example)).all()

    pinned = {f.path: f for f in services.registry("tester").list_version_files("fraud", 1)}
    digest = pinned[MODEL_DATA].digest
    blob = Path(settings.resolved_artifact_root()) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    body = bytearray(blob.read_bytes())
    body[len(body) // 2] ^= 0xFF
    blob.write_bytes(bytes(body))
    with pytest.raises(IntegrityError, match=MODEL_DATA):
        steward.models.load("fraud:1", settings=remote)
