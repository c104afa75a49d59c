"""What goes wrong on the remote path, as a user sees it: in HTTP and through the CLI.

A live server with authentication on. A revoked, expired or unknown token is a 401 whose
message says which (exit 4); a missing role is a 403 naming the permission and the
project (exit 4); a server that cannot be reached, goes away mid-command or does not
answer in time is exit 6 naming the URL, with nothing half-written or half-printed.
Failures are made at the network: a real TCP proxy that kills the server or cuts a
request, and a listener that never answers.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cli_testing import Cli, cli_env_for, free_port

from steward import errors
from steward.sdk import HttpBackend
from steward.settings import Settings
from steward.wiring import build_services

_REQUEST_LINE = re.compile(rb"(?:^|\r\n)(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S* HTTP/1\.1\r\n")


@dataclass
class AuthServer:
    server: Any  # LiveServer
    db_url: str
    admin: str
    alice: str  # a contributor on every project
    alice_id: str
    bob: str  # a viewer of project "churn" only
    run_id: str
    home: Path

    def cli(self, token: str | None, url: str | None = None, **extra: str) -> Cli:
        env = cli_env_for(self.home / "cli-home")
        env.update({"STEWARD_TRACKING_URI": url or self.server.url, "STEWARD_TOKEN": token, **extra})
        return Cli(env, server_url=url or self.server.url)


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[AuthServer]:
    from live_server import LiveServer

    home = tmp_path / "store"
    db_url = f"sqlite:///{home / 'steward.db'}"
    settings = Settings(home=home, database_url=db_url, user="setup", auth="on", capture_git=False, capture_packages=False)
    services = build_services(settings)
    try:
        gov = services.governance("setup")
        admin = gov.bootstrap_admin("root", "root@example.com").secret
        gov.create_user("alice", "alice@example.com")
        gov.grant_role("alice", "*", "contributor")
        made = gov.create_token("alice", expires_in_days=1)
        gov.create_user("bob", "bob@example.com")
        gov.grant_role("bob", "churn", "viewer")
        bob = gov.create_token("bob", expires_in_days=1).secret
        tracking = services.tracking("alice")
        run = tracking.create_run(tracking.get_or_create_experiment("churn").experiment_id, name="r1")
        tracking.end_run(run.run_id)
    finally:
        services.close()
    server = LiveServer(
        {"STEWARD_HOME": str(home), "STEWARD_DATABASE_URL": db_url, "STEWARD_AUTH": "on", "STEWARD_USER": "server"}
    )
    try:
        yield AuthServer(server, db_url, admin, made.secret, made.token.token_id, bob, run.run_id, tmp_path)
    finally:
        server.stop()


def _refusal(url: str, token: str, method: str = "GET", path: str = "/api/v1/experiments", **kw: Any) -> tuple[int, dict[str, str]]:
    answer = httpx.request(method, f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)
    return answer.status_code, answer.json()["error"]


def _one_error_line(stderr: str) -> str:
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr


@pytest.mark.slow
def test_a_revoked_token_is_a_401_saying_revoked_and_the_cli_exits_4(auth_server: AuthServer) -> None:
    revoked = httpx.delete(
        f"{auth_server.server.url}/api/v1/tokens/{auth_server.alice_id}",
        headers={"Authorization": f"Bearer {auth_server.admin}"}, timeout=30,
    )
    assert revoked.status_code == 200
    status, error = _refusal(auth_server.server.url, auth_server.alice)
    assert status == 401 and error["code"] == "UNAUTHENTICATED"
    assert f"token {auth_server.alice_id} was revoked" in error["message"]
    result = auth_server.cli(auth_server.alice)("runs", "list")
    assert result.exit_code == 4 and result.stdout == ""
    assert "was revoked" in _one_error_line(result.stderr)


@pytest.mark.slow
def test_an_expired_token_is_a_401_saying_when_it_expired_and_the_cli_exits_4(auth_server: AuthServer) -> None:
    engine = sa.create_engine(auth_server.db_url)
    with engine.begin() as conn:  # a token issued long ago: its expiry has passed
        conn.execute(sa.text("UPDATE api_tokens SET expires_at = 1000 WHERE token_id = :t"), {"t": auth_server.alice_id})
    engine.dispose()
    status, error = _refusal(auth_server.server.url, auth_server.alice)
    assert status == 401 and f"token {auth_server.alice_id} expired at 1970-01-01T00:00:01Z" in error["message"]
    result = auth_server.cli(auth_server.alice)("experiments", "list")
    assert result.exit_code == 4 and "expired at 1970-01-01T00:00:01Z" in _one_error_line(result.stderr)


@pytest.mark.slow
def test_an_unknown_token_is_a_401_saying_unknown_and_the_cli_exits_4(auth_server: AuthServer) -> None:
    for token, says in (("stw_" + "x" * 43, "this server never issued it"), ("not-a-token", "start with 'stw_'")):
        status, error = _refusal(auth_server.server.url, token)
        assert status == 401 and error["message"].startswith("unknown token") and says in error["message"]
        result = auth_server.cli(token)("runs", "list", "--json")
        assert result.exit_code == 4 and result.stdout == "" and "unknown token" in _one_error_line(result.stderr)


@pytest.mark.slow
def test_a_disabled_users_token_is_a_401_saying_so_and_the_cli_exits_4(auth_server: AuthServer) -> None:
    disabled = httpx.post(
        f"{auth_server.server.url}/api/v1/users/alice/disable",
        headers={"Authorization": f"Bearer {auth_server.admin}"}, timeout=30,
    )
    assert disabled.status_code == 200
    status, error = _refusal(auth_server.server.url, auth_server.alice)
    assert status == 401 and error["message"] == "user 'alice' is disabled"
    result = auth_server.cli(auth_server.alice)("experiments", "list")
    assert result.exit_code == 4 and "user 'alice' is disabled" in _one_error_line(result.stderr)


@pytest.mark.slow
def test_a_missing_role_is_a_403_naming_the_permission_and_the_project(auth_server: AuthServer) -> None:
    status, error = _refusal(auth_server.server.url, auth_server.bob, "POST", "/api/v1/experiments", json={"name": "fraud"})
    assert status == 403 and error["code"] == "PERMISSION_DENIED"
    assert error["message"] == "'bob' lacks permission runs.write on project 'fraud'"
    result = auth_server.cli(auth_server.bob)("experiments", "create", "fraud")
    assert result.exit_code == 4
    assert "'bob' lacks permission runs.write on project 'fraud'" in _one_error_line(result.stderr)
    # a viewer reads what the role covers, and is refused writing to it, naming the project
    assert auth_server.cli(auth_server.bob)("runs", "show", auth_server.run_id).exit_code == 0
    deleted = auth_server.cli(auth_server.bob)("runs", "delete", auth_server.run_id)
    assert deleted.exit_code == 4 and "'bob' lacks permission runs.write on project 'churn'" in deleted.stderr


def test_a_server_nobody_listens_on_exits_6_naming_the_url_and_login_saves_nothing(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    credentials = tmp_path / "credentials"
    cli = Cli({**cli_env_for(tmp_path / "home"), "STEWARD_TRACKING_URI": url, "STEWARD_CREDENTIALS_FILE": str(credentials)})
    for args in (["runs", "list"], ["experiments", "create", "x"], ["tokens", "list"]):
        result = cli(*args)
        assert result.exit_code == 6 and result.stdout == "", args
        assert f"unreachable at {url}: cannot connect" in _one_error_line(result.stderr)
    from steward.cli import app

    login = cli.runner.invoke(app, ["login", "--token-stdin"], env=cli.env, input="stw_" + "y" * 43)
    assert login.exit_code == 6 and url in login.stderr
    assert not credentials.exists()


class _Proxy:
    """A TCP proxy to a live server that misbehaves on purpose: it runs ``on_request(n)``
    before forwarding the n-th request (1-based, across connections), and resets a
    connection once ``cut_after`` bytes of requests went through it."""

    def __init__(self, upstream: int, *, on_request: Callable[[int], None] | None = None, cut_after: int | None = None) -> None:
        self.upstream = upstream
        self.on_request = on_request
        self.cut_after = cut_after
        self.requests = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump_back, args=(upstream, client), daemon=True).start()
            sent = 0
            while chunk := client.recv(65536):
                with self._lock:
                    for _ in _REQUEST_LINE.finditer(chunk):
                        self.requests += 1
                        if self.on_request is not None:
                            self.on_request(self.requests)
                if self.cut_after is not None and sent + len(chunk) > self.cut_after:
                    upstream.sendall(chunk[: self.cut_after - sent])
                    break
                upstream.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            _reset(client)
            if upstream is not None:
                _reset(upstream)

    @staticmethod
    def _pump_back(upstream: socket.socket, client: socket.socket) -> None:
        try:
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
        except OSError:
            pass
        _reset(client)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dying process or a cut network does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


@pytest.mark.slow
def test_a_server_killed_mid_command_exits_6_naming_the_url_and_prints_nothing(auth_server: AuthServer) -> None:
    server = auth_server.server

    def kill_at_the_second_request(n: int) -> None:
        if n == 2:
            server.proc.kill()  # SIGKILL, between the command's requests
            server.proc.wait(timeout=10)

    proxy = _Proxy(server.port, on_request=kill_at_the_second_request)
    try:
        # `runs show` asks for the run, then its experiment, artifacts...: the server dies after the first answer
        result = auth_server.cli(auth_server.alice, url=proxy.url)("runs", "show", auth_server.run_id)
    finally:
        proxy.close()
    assert proxy.requests >= 2
    assert result.exit_code == 6 and result.stdout == "", result.output
    line = _one_error_line(result.stderr)
    assert f"Steward server at {proxy.url} went away during GET" in line and "nothing was changed" in line


@pytest.mark.slow
def test_an_upload_cut_off_halfway_stores_nothing_and_the_retry_stores_it_whole(auth_server: AuthServer) -> None:
    url = auth_server.server.url
    payload = bytes(range(256)) * (4 * 4096)  # 4 MiB
    proxy = _Proxy(auth_server.server.port, cut_after=1 << 20)
    cut = HttpBackend(proxy.url, token=auth_server.alice)
    direct = HttpBackend(url, token=auth_server.alice)
    try:
        with pytest.raises(errors.StorageError) as caught:
            cut.log_artifact_bytes(auth_server.run_id, payload, "model/weights.bin")
        assert caught.value.exit_code == 6 and proxy.url in caught.value.message
        assert "PUT" in caught.value.message and "applied whole or not at all" in caught.value.message
        assert [a.path for a in direct.list_artifacts(auth_server.run_id)] == []
        stored = direct.log_artifact_bytes(auth_server.run_id, payload, "model/weights.bin")
        assert stored.size == len(payload)
        assert direct.read_artifact(auth_server.run_id, "model/weights.bin") == payload
    finally:
        cut.close()
        direct.close()
        proxy.close()


def test_a_server_that_never_answers_times_out_as_a_storage_error_naming_the_url() -> None:
    # accepts connections (the kernel's backlog) and never reads or answers
    silent = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    backend = HttpBackend(url, timeout=0.5)
    try:
        with pytest.raises(errors.StorageError) as caught:
            backend.list_experiments()
        assert caught.value.exit_code == 6
        assert caught.value.message == (
            f"Steward server at {url} did not answer GET /experiments in time; nothing was changed"
        )
        with pytest.raises(errors.StorageError, match="check whether it was applied before retrying"):
            backend.create_experiment("churn")
    finally:
        backend.close()
        silent.close()


@pytest.mark.slow
def test_the_cli_gives_up_on_a_silent_server_after_its_timeout_with_exit_6(tmp_path: Path) -> None:
    # the CLI's client waits STEWARD_HTTP_TIMEOUT seconds per request (default 60)
    silent = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        started = time.monotonic()
        result = Cli({**cli_env_for(tmp_path / "home"), "STEWARD_TRACKING_URI": url, "STEWARD_HTTP_TIMEOUT": "2"})("experiments", "list")
        waited = time.monotonic() - started
    finally:
        silent.close()
    assert result.exit_code == 6 and result.stdout == ""
    assert f"Steward server at {url} did not answer GET /experiments in time" in _one_error_line(result.stderr)
    assert waited >= 2  # it did wait the configured time, not give up at once
