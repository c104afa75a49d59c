"""Attack: a contributor overwrites the model files behind a registered version.

A contributor on project ``fraud`` may change the files of the project's runs (MLflow allows
re-uploading an artifact path, and so do we). What they must not change is what a
registered version loads: the version pinned the sha256 of every file when it was
registered and loads those blobs. Every overwrite is in the audit trail with the old and
the new digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client
from steward.registry import load_model_dir
from steward.sdk import HttpBackend
from steward.settings import Settings
from steward.wiring import Services

MODEL_DATA = "data/model.skops"


def _frame() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"amount": rng.normal(100, 30, 200), "score": rng.random(200)})
    return frame, (frame["amount"] > 100).astype(int)


def _fitted(flipped: bool) -> Any:  # Any: a fitted estimator
    from sklearn.linear_model import LogisticRegression

    frame, target = _frame()
    return LogisticRegression(max_iter=500).fit(frame, 1 - target if flipped else target)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_app(settings: Settings, services: Services) -> Any:  # Any: FastAPI
    from steward.server import create_app

    return create_app(settings.model_copy(update={"auth": "on"}), services)


@pytest.fixture
def transport(auth_app: Any, sync_asgi_transport: Any) -> Iterator[httpx.BaseTransport]:
    t = sync_asgi_transport(auth_app)
    yield t
    t.close()


@pytest.fixture
def api(transport: httpx.BaseTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport, base_url="http://steward.test") as client:
        yield client


@pytest.fixture
def tokens(services: Services, api: httpx.Client) -> dict[str, str]:
    """``root`` (global administrator) created project ``fraud``; ``carol`` contributes to it."""
    root = services.governance("setup").bootstrap_admin("root", "root@example.com").secret
    assert api.post("/api/v1/experiments", json={"name": "fraud"}, headers=_bearer(root)).status_code == 201
    gov = services.governance("root")
    gov.create_user("carol", "carol@example.com")
    gov.grant_role("carol", "fraud", "contributor")
    return {"root": root, "carol": gov.create_token("carol").secret}


def _sdk(settings: Settings, app: Any, sync_asgi_transport: Any, token: str) -> Client:  # Any: FastAPI, transport class
    # a transport of its own: closing the client closes its transport
    backend = HttpBackend("http://steward.test", token=token, transport=sync_asgi_transport(app))
    return Client(settings.model_copy(update={"capture_packages": False}), backend=backend)


def _overwrites(services: Services, run_id: str) -> list[Any]:  # Any: AuditEntry
    return [e for e in services.store.list_audit(target=f"runs:/{run_id}/") if e.action == "artifacts.overwrite"]


def test_a_contributor_overwriting_a_registered_models_files_changes_the_run_never_the_version(
    settings: Settings, services: Services, auth_app: Any, sync_asgi_transport: Any, api: httpx.Client, tokens: dict[str, str],
    tmp_path: Path,
) -> None:
    frame, _ = _frame()
    original, replacement = _fitted(flipped=False), _fitted(flipped=True)
    expected = original.predict(frame)
    assert (replacement.predict(frame) != expected).all()
    carol = _bearer(tokens["carol"])

    # carol trains and registers fraud:1 through the SDK against the server...
    client = _sdk(settings, auth_app, sync_asgi_transport, tokens["carol"])
    try:
        with client.start_run("fraud") as run:
            logged = run.log_model(original, "fraud", input_example=frame.head(5), registered_model_name="fraud")
            assert logged.registered is not None and logged.registered.version == 1
            pinned = {f.path: f for f in services.registry("root").list_version_files("fraud", 1)}
            # ...then logs another model over the same paths of the same run (the SDK attack)
            run.log_model(replacement, "fraud", input_example=frame.head(5))
        run_id = run.run_id
        # the run shows the new bytes
        current = {a.path.removeprefix("models/fraud/"): a for a in client.list_artifacts(run_id, "models/fraud")}
        assert current[MODEL_DATA].digest != pinned[MODEL_DATA].digest
        served = client.read_artifact(run_id, f"models/fraud/{MODEL_DATA}")
        assert hashlib.sha256(served).hexdigest() == current[MODEL_DATA].digest
    finally:
        client.close()
    run_folder = tmp_path / "run-now"
    for rel, info in current.items():
        (run_folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (run_folder / rel).write_bytes(services.blobs.read_bytes(info.digest))
    assert (load_model_dir(run_folder).predict(frame) == replacement.predict(frame)).all()

    # the version still loads the original bytes: identical predictions
    registry = services.registry("root")
    assert (registry.load("fraud:1").predict(frame) == expected).all()

    # the REST attack: raw bytes PUT over the model file
    junk = b"not a model at all"
    put = api.put(f"/api/v1/runs/{run_id}/artifacts/models/fraud/{MODEL_DATA}", content=junk, headers=carol)
    assert put.status_code == 201, put.text
    got = api.get(f"/api/v1/runs/{run_id}/artifacts/models/fraud/{MODEL_DATA}", headers=carol)
    assert got.content == junk
    assert (registry.load("fraud:1").predict(frame) == expected).all()

    # over REST the version serves its pinned files, byte for byte
    listed = api.get("/api/v1/models/fraud/versions/1/files", headers=carol)
    assert listed.status_code == 200, listed.text
    assert {f["path"]: f["digest"] for f in listed.json()["files"]} == {p: f.digest for p, f in pinned.items()}
    data = api.get(f"/api/v1/models/fraud/versions/1/files/{MODEL_DATA}", headers=carol)
    assert data.status_code == 200 and hashlib.sha256(data.content).hexdigest() == pinned[MODEL_DATA].digest

    # both overwrites of the model file are audited, by carol, with the old and the new digest
    changes = [e for e in _overwrites(services, run_id) if e.details["path"] == f"models/fraud/{MODEL_DATA}"]
    assert [(e.actor, e.details["old_digest"], e.details["new_digest"]) for e in changes] == [
        ("carol", pinned[MODEL_DATA].digest, current[MODEL_DATA].digest),
        ("carol", current[MODEL_DATA].digest, hashlib.sha256(junk).hexdigest()),
    ]
    assert all(e.target == f"runs:/{run_id}/models/fraud/{MODEL_DATA}" for e in changes)


def test_every_way_of_overwriting_an_artifact_path_is_audited_with_old_and_new_digest(
    settings: Settings, services: Services, auth_app: Any, sync_asgi_transport: Any, api: httpx.Client, tokens: dict[str, str]
) -> None:
    carol = _bearer(tokens["carol"])
    client = _sdk(settings, auth_app, sync_asgi_transport, tokens["carol"])
    try:
        with client.start_run("fraud") as run:
            run.log_text("one", "notes.txt")
            run.log_text("one", "notes.txt")  # the same bytes again: no change, no overwrite entry
            run.log_text("two", "notes.txt")  # SDK
    finally:
        client.close()
    run_id, experiment_id = run.run_id, run.info.experiment_id
    assert api.put(f"/api/v1/runs/{run_id}/artifacts/notes.txt", content=b"three", headers=carol).status_code == 201
    mlflow = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes.txt"
    assert api.put(mlflow, content=b"four", headers=carol).status_code == 200

    digest = {t: hashlib.sha256(t.encode()).hexdigest() for t in ("one", "two", "three", "four")}
    entries = _overwrites(services, run_id)
    assert [(e.details["path"], e.details["old_digest"], e.details["new_digest"]) for e in entries] == [
        ("notes.txt", digest["one"], digest["two"]),
        ("notes.txt", digest["two"], digest["three"]),
        ("notes.txt", digest["three"], digest["four"]),
    ]
    assert {(e.actor, e.target) for e in entries} == {("carol", f"runs:/{run_id}/notes.txt")}
    # the first upload of a path is an ordinary log_artifact entry, not an overwrite
    firsts = [e for e in services.store.list_audit(target=f"runs:/{run_id}/notes.txt") if e.action == "runs.log_artifact"]
    assert [e.details["sha256"] for e in firsts] == [digest["one"], digest["one"]]
