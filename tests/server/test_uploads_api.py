"""Resumable uploads (``/api/v1/uploads``): chunks, resuming, the sha256 check, and who may
touch an upload, on SQLite and PostgreSQL with authentication on."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl
import pytest

from steward.settings import Settings
from steward.wiring import Services

Api = httpx.Client


def _parquet(rows: int = 5000) -> bytes:
    # random values: the file stays several chunks long however well Parquet compresses
    rng = random.Random(rows)
    buffer = io.BytesIO()
    pl.DataFrame({"x": [rng.random() for _ in range(rows)], "k": [f"k{i % 17}" for i in range(rows)]}).write_parquet(buffer)
    return buffer.getvalue()


@pytest.fixture
def team(settings: Settings, services: Services, asgi_client: Callable[[Any], httpx.Client]) -> dict[str, httpx.Client]:
    """An auth-on app (small chunks: 4 KiB bodies) and clients for alice and bob
    (contributors on project p), carol (contributor on q) and vera (viewer on p)."""
    from steward.server import create_app

    on = settings.model_copy(update={"auth": "on", "max_request_bytes": 4096})
    gov = services.governance("setup")
    gov.bootstrap_admin("root", "root@example.com")
    admin = services.governance("root")
    clients: dict[str, httpx.Client] = {}
    for user, project, role in (("alice", "p", "contributor"), ("bob", "p", "contributor"), ("carol", "q", "contributor"), ("vera", "p", "viewer")):
        admin.create_user(user, f"{user}@example.com")
        admin.grant_role(user, project, role)
    app = create_app(on, Services(on, services.store, services.blobs, services.redactor))
    for user in ("root", "alice", "bob", "carol", "vera"):
        client = asgi_client(app)
        scopes = ("read", "write", "admin") if user == "root" else ("read", "write")
        client.headers["Authorization"] = f"Bearer {admin.create_token(user, scopes=scopes).secret}"
        clients[user] = client
    return clients


def _open(api: Api, data: bytes, dataset: str = "tx", **extra: Any) -> httpx.Response:
    body = {"dataset": dataset, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": "tx.parquet",
            "format": "parquet", "project": "p", **extra}
    return api.post("/api/v1/uploads", json=body)


def _put(api: Api, upload_id: str, data: bytes, start: int, end: int) -> httpx.Response:
    return api.put(
        f"/api/v1/uploads/{upload_id}", content=data[start:end], headers={"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"}
    )


def _send_all(api: Api, upload_id: str, data: bytes, chunk: int) -> None:
    received = api.get(f"/api/v1/uploads/{upload_id}").json()["received"]
    while received < len(data):
        answer = _put(api, upload_id, data, received, min(received + chunk, len(data)))
        assert answer.status_code == 200, answer.text
        received = answer.json()["received"]


def test_a_file_sent_in_chunks_becomes_a_version_once_complete(team: dict[str, Api]) -> None:
    alice, data = team["alice"], _parquet()
    opened = _open(alice, data)
    assert opened.status_code == 201, opened.text
    state = opened.json()
    # the server's chunk size stays under its body limit, so a chunk never meets a 413
    assert state["received"] == 0 and state["chunk_size"] <= 4096
    _send_all(alice, state["upload_id"], data, state["chunk_size"])
    made = alice.post("/api/v1/datasets/tx/versions", params={"upload_id": state["upload_id"], "project": "p"})
    assert made.status_code == 201, made.text
    assert made.json()["num_rows"] == 5000 and made.json()["source"] == "tx.parquet"
    # the session is gone with its chunks
    assert alice.get(f"/api/v1/uploads/{state['upload_id']}").status_code == 404


def test_an_upload_cut_off_halfway_creates_no_version_and_resumes(team: dict[str, Api]) -> None:
    alice, data = team["alice"], _parquet()
    state = _open(alice, data).json()
    chunk, upload_id = state["chunk_size"], state["upload_id"]
    half = (len(data) // 2) // chunk * chunk
    assert half >= chunk
    for start in range(0, half, chunk):
        assert _put(alice, upload_id, data, start, start + chunk).status_code == 200
    early = alice.post("/api/v1/datasets/tx/versions", params={"upload_id": upload_id, "project": "p"})
    assert early.status_code == 422 and "incomplete" in early.json()["error"]["message"]
    assert alice.get("/api/v1/datasets").json()["datasets"] == []
    # the same file opened again (the command re-run) resumes where the server stands
    again = _open(alice, data).json()
    assert again["upload_id"] == upload_id and again["received"] == half
    # a chunk at the wrong offset is a conflict naming where to go on
    wrong = _put(alice, upload_id, data, 0, chunk)
    assert wrong.status_code == 409 and str(half) in wrong.json()["error"]["message"]
    _send_all(alice, upload_id, data, chunk)
    assert alice.post("/api/v1/datasets/tx/versions", params={"upload_id": upload_id, "project": "p"}).status_code == 201


def test_content_that_does_not_match_the_declared_sha256_is_refused_and_discarded(team: dict[str, Api]) -> None:
    alice, data = team["alice"], _parquet()
    state = _open(alice, data, sha256="0" * 64).json()
    _send_all(alice, state["upload_id"], data, state["chunk_size"])
    refused = alice.post("/api/v1/datasets/tx/versions", params={"upload_id": state["upload_id"], "project": "p"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "sha256"
    assert alice.get("/api/v1/datasets").json()["datasets"] == []
    assert alice.get(f"/api/v1/uploads/{state['upload_id']}").status_code == 404  # start again cleanly


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({}, "Content-Range"),
        ({"Content-Range": "bytes 0-9/11"}, "Content-Range"),  # total is not the size
        ({"Content-Range": "items 0-9/10"}, "Content-Range"),
    ],
)
def test_bad_content_ranges_are_422_naming_the_header(team: dict[str, Api], headers: dict[str, str], field: str) -> None:
    alice, data = team["alice"], _parquet(200)
    state = _open(alice, data).json()
    answer = alice.put(f"/api/v1/uploads/{state['upload_id']}", content=data[:10], headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("change", "field"),
    [({"size": 0}, "size"), ({"sha256": "xyz"}, "sha256"), ({"format": "xlsx"}, "format"), ({"dataset": "bad name"}, "dataset")],
)
def test_bad_upload_openings_are_4xx_naming_the_field(team: dict[str, Api], change: dict[str, Any], field: str) -> None:
    answer = _open(team["alice"], _parquet(200), **change)
    assert answer.status_code == 422, answer.text
    assert field in str(answer.json()["error"].get("field")) or field in answer.json()["error"]["message"]


def test_another_user_cannot_read_append_to_finish_or_abort_my_upload(team: dict[str, Api]) -> None:
    alice, bob, data = team["alice"], team["bob"], _parquet()
    state = _open(alice, data).json()
    upload_id = state["upload_id"]
    # a colleague in the same project neither sees nor touches it: as if it did not exist
    assert bob.get(f"/api/v1/uploads/{upload_id}").status_code == 404
    assert _put(bob, upload_id, data, 0, state["chunk_size"]).status_code == 404
    _send_all(alice, upload_id, data, state["chunk_size"])
    assert bob.post("/api/v1/datasets/tx/versions", params={"upload_id": upload_id, "project": "p"}).status_code == 404
    assert bob.delete(f"/api/v1/uploads/{upload_id}").status_code == 404
    # another project's contributor is refused before the service is even asked
    denied = team["carol"].get(f"/api/v1/uploads/{upload_id}")
    assert denied.status_code == 403 and "data.write" in denied.json()["error"]["message"]
    assert alice.get("/api/v1/datasets").json()["datasets"] == []
    assert alice.post("/api/v1/datasets/tx/versions", params={"upload_id": upload_id, "project": "p"}).status_code == 201


def test_a_viewer_cannot_upload_and_another_project_cannot_upload_into_mine(team: dict[str, Api]) -> None:
    data = _parquet(200)
    viewer = _open(team["vera"], data)
    assert viewer.status_code == 403 and "data.write" in viewer.json()["error"]["message"]
    alice_upload = _open(team["alice"], data).json()
    _send_all(team["alice"], alice_upload["upload_id"], data, alice_upload["chunk_size"])
    assert team["alice"].post("/api/v1/datasets/tx/versions", params={"upload_id": alice_upload["upload_id"], "project": "p"}).status_code == 201
    # dataset tx now belongs to p: carol (q) may not open an upload for it, whatever project she names
    assert _open(team["carol"], data, project="q").status_code == 403
    # alice's next upload for tx belongs to tx's project even when she names none
    later = _open(team["alice"], _parquet(300), project=None).json()
    assert later["project"] == "p"


def test_an_upload_for_one_dataset_cannot_become_another(team: dict[str, Api]) -> None:
    alice, data = team["alice"], _parquet(200)
    state = _open(alice, data).json()
    _send_all(alice, state["upload_id"], data, state["chunk_size"])
    answer = alice.post("/api/v1/datasets/other/versions", params={"upload_id": state["upload_id"], "project": "p"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "upload_id"


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _open_import(api: Api, data: bytes) -> httpx.Response:
    return api.post("/api/v1/imports", json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": "export"})


def test_only_administrators_import_and_a_tar_reaching_outside_its_folder_is_refused(team: dict[str, Api]) -> None:
    evil = _tar({"dump.jsonl": b"", "../../escaped.txt": b"owned"})
    denied = _open_import(team["alice"], evil)
    assert denied.status_code == 403 and "governance.admin" in denied.json()["error"]["message"]
    root = team["root"]
    state = _open_import(root, evil).json()
    assert state["kind"] == "import" and state["project"] == "*"
    # a contributor of a project cannot append to an import upload (it belongs to every project)
    assert _put(team["alice"], state["upload_id"], evil, 0, min(len(evil), state["chunk_size"])).status_code == 403
    _send_all(root, state["upload_id"], evil, state["chunk_size"])
    refused = root.post(f"/api/v1/imports/{state['upload_id']}")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "upload_id"
    assert root.get(f"/api/v1/uploads/{state['upload_id']}").status_code == 404  # discarded


def test_a_dataset_upload_cannot_be_imported_nor_an_import_registered(team: dict[str, Api]) -> None:
    root, data = team["root"], _parquet(200)
    dataset_upload = _open(root, data).json()
    _send_all(root, dataset_upload["upload_id"], data, dataset_upload["chunk_size"])
    assert root.post(f"/api/v1/imports/{dataset_upload['upload_id']}").status_code == 422
    export = _tar({"dump.jsonl": b""})
    import_upload = _open_import(root, export).json()
    _send_all(root, import_upload["upload_id"], export, import_upload["chunk_size"])
    answer = root.post("/api/v1/datasets/tx/versions", params={"upload_id": import_upload["upload_id"], "project": "p"})
    assert answer.status_code in (403, 422)  # "*" is no dataset's project, and the kind is wrong
    ok = root.post(f"/api/v1/imports/{import_upload['upload_id']}")
    assert ok.status_code == 200 and ok.json()["runs_created"] == 0
