"""The content-addressed blob store, on a local folder and on a real S3 server (moto)."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.adapters.artifacts import ContentAddressedStore
from steward.core import RunStatus
from steward.errors import IntegrityError, NotFoundError, StorageError
from steward.sdk import Client
from steward.settings import Settings

BUCKET = "steward-test"
CREDENTIALS = {"key": "x", "secret": "x"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on a loopback port, with one bucket."""
    from moto_s3 import moto_s3

    with moto_s3(BUCKET) as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def cas(request: pytest.FixtureRequest, tmp_path: Path) -> ContentAddressedStore:
    """The same contract on a local folder and on ``s3://bucket/<fresh prefix>``."""
    if request.param == "local":
        return ContentAddressedStore(str(tmp_path / "artifacts"))
    endpoint: str = request.getfixturevalue("s3_endpoint")
    request.getfixturevalue("monkeypatch").setenv("AWS_DEFAULT_REGION", "us-east-1")
    return ContentAddressedStore(
        f"s3://{BUCKET}/{uuid.uuid4().hex}", {"endpoint_url": endpoint, **CREDENTIALS, "skip_instance_cache": True}
    )


def _blob_files(cas: ContentAddressedStore) -> list[str]:
    return [p for p in cas.fs.find(f"{cas._base}/blobs/sha256")]


def test_bytes_round_trip_under_their_sha256(cas: ContentAddressedStore) -> None:
    data = b"hello artifacts\n" * 1000
    digest, size = cas.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    assert cas.exists(digest)
    assert cas.read_bytes(digest) == data
    with cas.open(digest) as reader:
        assert reader.read() == data


def test_files_round_trip_and_match_the_bytes_digest(cas: ContentAddressedStore, tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    data = os.urandom(3 * (1 << 20) + 17)  # crosses the 1 MiB chunk boundary
    path.write_bytes(data)
    digest, size = cas.put_file(str(path))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert cas.read_bytes(digest) == data


def test_identical_content_is_stored_once(cas: ContentAddressedStore, tmp_path: Path) -> None:
    path = tmp_path / "same.txt"
    path.write_bytes(b"same")
    first = cas.put_bytes(b"same")
    assert cas.put_bytes(b"same") == first
    assert cas.put_file(str(path)) == first
    cas.put_bytes(b"different")
    assert len(_blob_files(cas)) == 2


def test_empty_content_is_a_valid_blob(cas: ContentAddressedStore) -> None:
    digest, size = cas.put_bytes(b"")
    assert size == 0
    assert cas.read_bytes(digest) == b""


def test_missing_and_malformed_digests_are_not_found(cas: ContentAddressedStore) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not cas.exists(absent)
    with pytest.raises(NotFoundError):
        cas.read_bytes(absent)
    with pytest.raises(NotFoundError):
        cas.open(absent)
    for bad in ("../../etc/passwd", "abc", "Z" * 64):
        with pytest.raises(NotFoundError):
            cas.read_bytes(bad)


def test_a_tampered_blob_is_detected_on_read(cas: ContentAddressedStore) -> None:
    digest, _ = cas.put_bytes(b"the real model weights")
    cas.fs.pipe_file(cas._path(digest), b"the fake model weights")
    with pytest.raises(IntegrityError):
        cas.read_bytes(digest)
    with pytest.raises(IntegrityError), cas.open(digest) as reader:
        reader.read()


def test_a_missing_local_source_file_is_a_clear_not_found_error(cas: ContentAddressedStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        cas.put_file(str(tmp_path / "does-not-exist.bin"))


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    cas = ContentAddressedStore(str(tmp_path / "artifacts"))
    src = tmp_path / "f.bin"
    for i in range(5):
        src.write_bytes(os.urandom(1000 + i))
        cas.put_file(str(src))
        cas.put_bytes(os.urandom(10 + i))
    assert os.listdir(tmp_path / "artifacts" / "blobs" / "tmp") == []
    assert len(_blob_files(cas)) == 10


def test_a_local_corrupted_blob_on_disk_raises_integrity_error(tmp_path: Path) -> None:
    cas = ContentAddressedStore(str(tmp_path / "artifacts"))
    digest, _ = cas.put_bytes(b"x" * 10_000)
    blob = Path(cas._path(digest))
    raw = bytearray(blob.read_bytes())
    raw[5000] ^= 0xFF  # flip one byte, as bit rot would
    blob.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError) as info:
        cas.read_bytes(digest)
    assert digest[:12] in info.value.message


def test_an_unreachable_s3_endpoint_is_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cas = ContentAddressedStore(
        f"s3://{BUCKET}/x",
        {
            "endpoint_url": f"http://127.0.0.1:{_free_port()}",
            **CREDENTIALS,
            "skip_instance_cache": True,
            "config_kwargs": {"connect_timeout": 1, "retries": {"max_attempts": 1}},
        },
    )
    with pytest.raises(StorageError):
        cas.put_bytes(b"data")


def test_the_client_end_to_end_keeps_artifacts_on_s3(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the embedded client reads S3 credentials the standard AWS way
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        home=tmp_path / "home",
        artifact_root=f"s3://{BUCKET}/{prefix}",
        s3_endpoint_url=s3_endpoint,
        capture_git=False,
        user="tester",
    )
    report = tmp_path / "report.txt"
    report.write_text("accuracy 0.93\n")
    client = Client(settings)
    try:
        with client.start_run("s3-demo", params={"C": 1.0}) as run:
            run.log_metric("acc", 0.93)
            run.log_artifact(str(report), "reports")
            run.log_text("hello", "notes/hello.txt")
        stored = client.get_run(run.run_id)
        assert stored.status is RunStatus.FINISHED
        paths = [a.path for a in client.list_artifacts(run.run_id)]
        assert paths == ["notes/hello.txt", "reports/report.txt", "steward/requirements.txt"]
        assert client.read_artifact(run.run_id, "reports/report.txt") == b"accuracy 0.93\n"
        assert client.read_artifact(run.run_id, "notes/hello.txt") == b"hello"
        assert b"steward==" in client.read_artifact(run.run_id, "steward/requirements.txt")
        blobs = ContentAddressedStore(f"s3://{BUCKET}/{prefix}", {"endpoint_url": s3_endpoint, **CREDENTIALS})
        assert len(_blob_files(blobs)) == 3
        assert not (tmp_path / "home" / "artifacts").exists()  # nothing went to local disk
    finally:
        client.close()
