"""``steward data register`` against a live server: a cut-off upload registers nothing and
the re-run resumes it; an unreachable server is exit 6 naming it."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
from cli_testing import Cli, cli_env_for, free_port

from live_server import LiveServer
from steward.errors import StorageError
from steward.sdk import HttpBackend
from steward.sdk._http_data import HttpData

CHUNK_LIMIT = 64 * 1024


class CuttingTransport(httpx.BaseTransport):
    """The real network, cut (as a pulled cable would) after ``puts`` chunk uploads."""

    def __init__(self, puts: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.left = puts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            if self.left == 0:
                raise httpx.ConnectError("connection reset", request=request)
            self.left -= 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    home = tmp_path / "server-home"
    home.mkdir()
    live = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_AUTH": "off",
            # small bodies: the test file takes several chunks
            "STEWARD_MAX_REQUEST_BYTES": str(CHUNK_LIMIT),
        }
    )
    yield live
    live.stop()


@pytest.fixture
def big(tmp_path: Path) -> Path:
    rng = random.Random(7)
    path = tmp_path / "big.parquet"
    pl.DataFrame({"x": [rng.random() for _ in range(60_000)], "y": [rng.randint(0, 10**9) for _ in range(60_000)]}).write_parquet(path)
    assert path.stat().st_size > 4 * CHUNK_LIMIT
    return path


def test_an_upload_cut_halfway_registers_nothing_and_the_rerun_resumes(server: LiveServer, big: Path, tmp_path: Path) -> None:
    cut = HttpBackend(server.url, user="tester", transport=CuttingTransport(puts=2))
    try:
        with pytest.raises(StorageError, match="run the command again to resume"):
            HttpData(cut).register("big", big)
    finally:
        cut.close()
    api = httpx.Client(base_url=server.url + "/api/v1", headers={"X-Steward-User": "tester"})
    try:
        assert api.get("/datasets").json() == {"datasets": []}
        data = big.read_bytes()
        state = api.post(
            "/uploads",
            json={"dataset": "big", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": str(big), "format": "parquet"},
        ).json()
        assert state["received"] == 2 * state["chunk_size"]  # what arrived before the cut is kept
        cli = Cli({**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": server.url})
        rerun = cli("data", "register", "big", str(big), "--json")
        assert rerun.exit_code == 0, rerun.output
        assert '"version": 1' in rerun.stdout and '"num_rows": 60000' in rerun.stdout
        # the re-run went on from the offset: the session it resumed is the one now finished
        assert api.get(f"/uploads/{state['upload_id']}").status_code == 404
        assert [d["name"] for d in api.get("/datasets").json()["datasets"]] == ["big"]
    finally:
        api.close()


def test_a_server_that_is_not_there_is_exit_6_naming_it(big: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli({**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": url})
    for args in (["data", "register", "big", str(big)], ["data", "list"], ["audit", "verify"], ["secrets", "list"]):
        result = cli(*args)
        assert result.exit_code == 6, (args, result.output)
        assert url in result.stderr and "Traceback" not in result.output


def test_on_an_auth_on_server_a_viewer_is_refused_naming_the_permission_and_a_revoked_token_says_so(
    tmp_path: Path, big: Path
) -> None:
    from cli_testing import client_settings

    from steward.wiring import build_services

    home = tmp_path / "auth-home"
    services = build_services(client_settings(home))
    try:
        root = services.governance("setup")
        root.bootstrap_admin("root", "root@example.com")
        admin = services.governance("root")
        for user, role in (("vic", "viewer"), ("cora", "contributor")):
            admin.create_user(user, f"{user}@example.com")
            admin.grant_role(user, "*", role)
        viewer = admin.create_token("vic").secret
        made = admin.create_token("cora")
        contributor = made.secret
    finally:
        services.close()
    live = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_AUTH": "on",
        }
    )
    try:
        cli = Cli({**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": live.url})
        denied = cli("data", "register", "big", str(big), STEWARD_TOKEN=viewer)
        assert denied.exit_code == 4, denied.output
        assert "data.write" in denied.stderr and "Traceback" not in denied.output
        assert json.loads(cli("data", "list", "--json", STEWARD_TOKEN=viewer).stdout) == {"datasets": []}
        ok = cli("data", "register", "big", str(big), STEWARD_TOKEN=contributor)
        assert ok.exit_code == 0, ok.output
        services = build_services(client_settings(home))
        try:
            services.governance("root").revoke_token(made.token.token_id)
        finally:
            services.close()
        revoked = cli("data", "show", "big", STEWARD_TOKEN=contributor)
        assert revoked.exit_code == 4 and "revoked" in revoked.stderr, revoked.output
    finally:
        live.stop()


@pytest.mark.slow
def test_killing_the_cli_mid_upload_registers_nothing_and_the_rerun_resumes(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    home = tmp_path / "kill-home"
    home.mkdir()
    live = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_AUTH": "off",
            "STEWARD_MAX_REQUEST_BYTES": str(16 * 1024),  # hundreds of chunks: time to kill it halfway
        }
    )
    rng = random.Random(11)
    path = tmp_path / "large.parquet"
    pl.DataFrame({"x": [rng.random() for _ in range(400_000)]}).write_parquet(path, compression="uncompressed")
    data = path.read_bytes()
    body = {"dataset": "large", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": str(path), "format": "parquet"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update({"STEWARD_TRACKING_URI": live.url, "STEWARD_USER": "tester", "STEWARD_HOME": str(tmp_path / "not-the-store")})
    api = httpx.Client(base_url=live.url + "/api/v1", headers={"X-Steward-User": "tester"})
    try:
        proc = subprocess.Popen([sys.executable, "-m", "steward", "data", "register", "large", str(path)], env=env)
        received, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            # the CLI's own session (same user, dataset, size and sha256): how far it got
            found = api.post("/uploads", json=body).json()
            received = int(found["received"])
            if received > 0:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the upload finished before it could be cut"
        assert 0 < received < len(data)
        assert api.get("/datasets").json() == {"datasets": []}
        rerun = subprocess.run(
            [sys.executable, "-m", "steward", "data", "register", "large", str(path), "--json"],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert json.loads(rerun.stdout)["version"] == 1
        assert [d["name"] for d in api.get("/datasets").json()["datasets"]] == ["large"]
    finally:
        api.close()
        live.stop()
