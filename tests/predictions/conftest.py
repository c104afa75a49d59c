"""Fixtures of the prediction log: services on each metadata store and each artifact store
(a local folder and a real S3 API, moto's server on a loopback port)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.sql import SqlStore
from steward.predictions import LogOptions, PredictionLog
from steward.settings import Settings
from steward.wiring import Services

BUCKET = "steward-predictions"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 API on loopback with one bucket, for the whole session."""
    from moto_s3 import moto_s3

    with moto_s3(BUCKET) as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContentAddressedStore:
    """The artifact store on a local folder, then on ``s3://bucket/<fresh prefix>``."""
    if request.param == "local":
        return ContentAddressedStore(str(tmp_path / "artifacts"))
    endpoint: str = request.getfixturevalue("moto_endpoint")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options = {"endpoint_url": endpoint, "key": "x", "secret": "x", "skip_instance_cache": True}
    return ContentAddressedStore(f"s3://{BUCKET}/{uuid.uuid4().hex}", options)


@pytest.fixture
def log_services(settings: Settings, store: SqlStore, artifacts: ContentAddressedStore) -> Iterator[Services]:
    """Services on the parametrised metadata store and artifact store."""
    services = Services(settings, store, artifacts)
    yield services
    log = services.prediction_log_holder.log
    if log is not None:
        log.close()


@pytest.fixture
def local_services(services: Services) -> Iterator[Services]:
    """Services on the parametrised metadata store and a local artifact folder."""
    yield services
    if services.prediction_log_holder.log is not None:
        services.prediction_log_holder.log.close()


@pytest.fixture
def make_log() -> Iterator[Callable[..., PredictionLog]]:
    """A factory of logs with chosen options over some services; all closed afterwards."""
    from steward.adapters.artifacts._segment_files import PrefixFiles
    from steward.adapters.sql._prediction_store import SqlPredictionStore

    made: list[PredictionLog] = []

    def make(services: Services, files: object = None, **options: object) -> PredictionLog:
        log = PredictionLog(
            SqlPredictionStore(services.store), files or PrefixFiles.beside(services.blobs), LogOptions(**options)  # type: ignore[arg-type]
        )
        made.append(log)
        return log

    yield make
    for log in made:
        log.close(timeout=5)
