"""Attack: change the bytes of a blob behind a registered version, on disk (or in S3).

The artifact store is content-addressed, so a changed blob no longer matches the digest the
version recorded. Loading refuses it, and the error names the file, so an operator knows
what was touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from steward import Client
from steward.errors import IntegrityError, NotFoundError
from steward.registry import RegistryService
from steward.settings import Settings
from steward.wiring import Services

MODEL_DATA = "data/model.skops"


def _blob(settings: Settings, digest: str) -> Path:
    return Path(settings.resolved_artifact_root()) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


def _register(client: Client, registry: RegistryService) -> pd.DataFrame:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"amount": rng.normal(100, 30, 100), "score": rng.random(100)})
    model = LogisticRegression(max_iter=500).fit(frame, (frame["score"] > 0.5).astype(int))
    with client.start_run("fraud") as run:
        run.log_model(model, "fraud", input_example=frame.head(5), registered_model_name="fraud")
    assert (registry.load("fraud:1").predict(frame) == model.predict(frame)).all()
    return frame


def test_a_tampered_model_blob_is_refused_and_the_error_names_the_file(
    settings: Settings, services: Services, client: Client, api: httpx.Client, tmp_path: Path
) -> None:
    registry = services.registry("tester")
    _register(client, registry)
    pinned = {f.path: f for f in registry.list_version_files("fraud", 1)}
    blob = _blob(settings, pinned[MODEL_DATA].digest)
    body = bytearray(blob.read_bytes())
    body[len(body) // 2] ^= 0xFF  # one byte changed behind the store's back
    blob.write_bytes(bytes(body))

    with pytest.raises(IntegrityError) as caught:
        registry.load("fraud:1")
    assert repr(MODEL_DATA) in caught.value.message and "fraud:1" in caught.value.message
    with pytest.raises(IntegrityError, match="data/model.skops"):
        registry.package("fraud:1", tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists() or not any((tmp_path / "bundle").iterdir())

    served = api.get(f"/api/v1/models/fraud/versions/1/files/{MODEL_DATA}")
    assert served.status_code == 500
    assert served.json()["error"]["code"] == "INTEGRITY_ERROR"
    assert MODEL_DATA in served.json()["error"]["message"]


def test_a_missing_model_blob_is_not_found_and_named(settings: Settings, services: Services, client: Client) -> None:
    registry = services.registry("tester")
    _register(client, registry)
    pinned = {f.path: f for f in registry.list_version_files("fraud", 1)}
    _blob(settings, pinned["steward-model.json"].digest).unlink()
    with pytest.raises(NotFoundError, match="steward-model.json"):
        registry.load("fraud:1")


def _tampered_dataset(settings: Settings, services: Services) -> Any:  # Any: DatasetVersion
    data = services.data("tester")
    version = data.register("transactions", pd.DataFrame({"amount": [1.0, 2.0, 3.0], "label": [0, 1, 0]}))
    assert version.artifact_digest is not None
    blob = _blob(settings, version.artifact_digest)
    original = blob.read_bytes()
    # a valid Parquet file of other rows: only the digest can tell
    other = data.register("other", pd.DataFrame({"amount": [9.0, 9.0, 9.0], "label": [1, 1, 1]}))
    assert other.artifact_digest is not None
    blob.write_bytes(_blob(settings, other.artifact_digest).read_bytes())
    assert blob.read_bytes() != original
    return version


def test_a_tampered_dataset_blob_is_refused_by_load_and_scan_naming_the_version(settings: Settings, services: Services) -> None:
    version = _tampered_dataset(settings, services)
    data = services.data("tester")
    for read in (lambda: data.load("transactions:1"), lambda: data.scan("transactions:1").collect()):
        with pytest.raises(IntegrityError) as caught:
            read()
        assert "datasets:/transactions/1" in caught.value.message
        assert version.artifact_uri in caught.value.message
    # the version record still pins the digest it was registered with
    assert data.get("transactions:1").artifact_digest == version.artifact_digest


def test_a_tampered_dataset_is_refused_when_versions_are_compared(settings: Settings, services: Services) -> None:
    _tampered_dataset(settings, services)
    with pytest.raises(IntegrityError, match="datasets:/transactions/1"):
        services.data("tester").diff("transactions:1", "other:1")
