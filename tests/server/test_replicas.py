"""Two ``steward server`` replicas on one PostgreSQL and one S3 store serve the same state.

Real processes on loopback, the test PostgreSQL (a schema of its own per test) and moto's
S3 server: what one replica writes the other reads at once, a token revoked through one is
refused by the other at once (no replica caches tokens), failed logins count across
replicas, and a replica killed mid-load (SIGKILL) loses no write it acknowledged and leaves
the audit chain intact. The audit chain is also appended to from two engines at once.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from steward.adapters.sql import SqlStore
from steward.adapters.sql._audit import SqlAuditStore
from steward.adapters.sql._auth_failures import SqlAuthFailureStore
from steward.errors import RateLimitedError
from steward.governance import AuditChainService, generate_master_key
from steward.server._ratelimit import LoginLimiter
from steward.settings import Settings
from steward.tracking import AuditEvent, now_ms
from steward.wiring import Services, build_services

BUCKET = "steward-replicas"
_AWS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port, with one bucket."""
    from moto_s3 import moto_s3

    with moto_s3(BUCKET) as endpoint:
        yield endpoint


@dataclass
class Replicas:
    """Two servers on one store, an administrator's token, and the store seen from the test."""

    a: Any  # LiveServer (tests/live_server.py is imported by name, not a package)
    b: Any
    admin: str
    services: Services
    env: dict[str, str] = field(default_factory=dict)

    def http(self, server: Any, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin}"}
        return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=30)


@pytest.fixture
def replicas(pg_url: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replicas]:
    from live_server import LiveServer

    for name, value in _AWS.items():
        monkeypatch.setenv(name, value)
    root = f"s3://{BUCKET}/{uuid.uuid4().hex}"
    key = generate_master_key()
    settings = Settings(
        home=tmp_path / "setup", database_url=pg_url, artifact_root=root, s3_endpoint_url=s3_endpoint,
        master_key=SecretStr(key), user="setup", auth="on", capture_git=False, capture_packages=False,
    )
    services = build_services(settings)  # migrates the schema before either replica starts
    gov = services.governance("setup")
    admin = gov.bootstrap_admin("root", "root@example.com").secret
    gov.create_user("alice", "alice@example.com", password="alice-password-1")
    gov.grant_role("alice", "*", "contributor")
    env = {
        **_AWS,
        "STEWARD_DATABASE_URL": pg_url,
        "STEWARD_ARTIFACT_ROOT": root,
        "STEWARD_S3_ENDPOINT_URL": s3_endpoint,
        "STEWARD_MASTER_KEY": key,
        "STEWARD_AUTH": "on",
        "STEWARD_USER": "server",
        "STEWARD_AUTH_MAX_FAILURES": "4",
        # as behind the proxy of deploy/: the client address comes from X-Forwarded-For
        "STEWARD_TRUSTED_PROXIES": "127.0.0.1",
        # both replicas sign the audit head every second: their checkpoints race on purpose
        "STEWARD_AUDIT_CHECKPOINT_INTERVAL": "1",
    }
    a = LiveServer({**env, "STEWARD_HOME": str(tmp_path / "a")})
    try:
        b = LiveServer({**env, "STEWARD_HOME": str(tmp_path / "b")})
    except BaseException:
        a.stop()
        raise
    try:
        yield Replicas(a, b, admin, services, env)
    finally:
        a.stop()
        b.stop()
        services.close()


def _verify_audit(services: Services) -> None:
    report = services.audit().verify()
    assert report.intact, (report.first_break, report.checkpoint_problems)
    assert report.checked > 0


@pytest.mark.slow
def test_what_one_replica_writes_the_other_reads_at_once(replicas: Replicas) -> None:
    with replicas.http(replicas.a) as a, replicas.http(replicas.b) as b:
        for i in range(5):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            experiment = writer.post("/experiments", json={"name": f"churn-{i}"})
            assert experiment.status_code == 201, experiment.text
            experiment_id = experiment.json()["experiment_id"]
            assert reader.get(f"/experiments/{experiment_id}").json()["name"] == f"churn-{i}"
            run = reader.post("/runs", json={"experiment_id": experiment_id, "params": {"lr": 0.1 * i}})
            assert run.status_code == 201, run.text
            run_id = run.json()["run_id"]
            batch = writer.post(f"/runs/{run_id}/batch", json={"metrics": [{"key": "auc", "value": 0.9}], "tags": {"i": i}})
            assert batch.status_code == 200, batch.text
            shown = reader.get(f"/runs/{run_id}").json()
            assert shown["params"]["lr"] == str(0.1 * i) and shown["tags"]["i"] == str(i)
            # the artifact goes to S3 through one replica and streams back through the other
            payload = f"model bytes {i}\n".encode() * 1000
            assert writer.put(f"/runs/{run_id}/artifacts/model/model.bin", content=payload).status_code == 201
            assert reader.get(f"/runs/{run_id}/artifacts/model/model.bin").content == payload
        # a token made through one replica works on the other at once
        token = a.post("/tokens", json={"user": "alice", "expires_in_days": 1}).json()["secret"]
        with replicas.http(replicas.b, token) as alice:
            assert alice.get("/whoami").json()["name"] == "alice"
    _verify_audit(replicas.services)


@pytest.mark.slow
def test_a_token_revoked_through_one_replica_is_refused_by_the_other_at_once(replicas: Replicas) -> None:
    with replicas.http(replicas.a) as a:
        made = a.post("/tokens", json={"user": "alice", "expires_in_days": 1}).json()
        token_id = made["token"]["token_id"]
        with replicas.http(replicas.b, made["secret"]) as alice:
            assert alice.get("/experiments").status_code == 200  # used once, so any cache would hold it
            assert a.delete(f"/tokens/{token_id}").status_code == 200
            # no replica caches tokens: the documented expiry is zero
            refused = alice.get("/experiments")
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["code"] == "UNAUTHENTICATED" and "revoked" in error["message"] and token_id in error["message"]


@pytest.mark.slow
def test_failed_logins_count_across_replicas(replicas: Replicas) -> None:
    servers = itertools.cycle([replicas.a, replicas.b])
    guesser, colleague = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "203.0.113.6"}

    def whoami(server: Any, password: str, client: dict[str, str]) -> httpx.Response:
        return httpx.get(f"{server.url}/api/v1/whoami", auth=("alice", password), headers=client, timeout=30)

    for _ in range(4):  # STEWARD_AUTH_MAX_FAILURES=4, spread over both replicas
        assert whoami(next(servers), "wrong-password", guesser).status_code == 401
    for server in (replicas.a, replicas.b):
        # locked on both, even with the right password
        limited = whoami(server, "alice-password-1", guesser)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["retry-after"]) > 0
        # another client behind the same proxy is not
        assert whoami(server, "alice-password-1", colleague).status_code == 200
    # a valid token still gets in from the limited address (see _ratelimit.py)
    with replicas.http(replicas.b) as b:
        assert b.get("/whoami", headers=guesser).status_code == 200


@dataclass
class _Acknowledged:
    lock: threading.Lock = field(default_factory=threading.Lock)
    experiments: dict[str, str] = field(default_factory=dict)  # name -> id
    params: dict[str, tuple[str, str]] = field(default_factory=dict)  # run_id -> (key, value)
    artifacts: dict[str, bytes] = field(default_factory=dict)  # run_id -> bytes
    refused: int = 0


def _writer(urls: list[str], token: str, worker: int, stop: threading.Event, acked: _Acknowledged) -> None:
    clients = [httpx.Client(base_url=f"{u}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10) for u in urls]
    try:
        for i in itertools.count():
            if stop.is_set():
                return
            http = clients[i % len(clients)]
            name = f"load-{worker}-{i}"
            try:
                made = http.post("/experiments", json={"name": name})
                if made.status_code != 201:
                    continue
                with acked.lock:
                    acked.experiments[name] = made.json()["experiment_id"]
                run = http.post("/runs", json={"experiment_id": made.json()["experiment_id"], "params": {"i": i}})
                if run.status_code != 201:
                    continue
                run_id = run.json()["run_id"]
                with acked.lock:
                    acked.params[run_id] = ("i", str(i))
                payload = f"{name}\n".encode() * 200
                if http.put(f"/runs/{run_id}/artifacts/out.txt", content=payload).status_code == 201:
                    with acked.lock:
                        acked.artifacts[run_id] = payload
            except httpx.TransportError:
                with acked.lock:
                    acked.refused += 1  # the killed replica: nothing acknowledged, nothing counted
    finally:
        for c in clients:
            c.close()


@pytest.mark.slow
def test_killing_a_replica_mid_load_loses_no_acknowledged_write_and_the_audit_chain_holds(replicas: Replicas) -> None:
    acked = _Acknowledged()
    stop = threading.Event()
    urls = [replicas.a.url, replicas.b.url]
    workers = [threading.Thread(target=_writer, args=(urls, replicas.admin, w, stop, acked)) for w in range(4)]
    for t in workers:
        t.start()
    try:
        time.sleep(3)
        before = len(acked.experiments)
        replicas.a.proc.kill()  # SIGKILL: no shutdown, requests in flight are cut
        replicas.a.proc.wait(timeout=10)
        time.sleep(2)  # the load goes on; the dead replica's share fails at the transport
    finally:
        stop.set()
        for t in workers:
            t.join(timeout=60)
    assert before > 0 and len(acked.experiments) > before, "the survivor kept acknowledging writes"
    assert acked.refused > 0, "some requests went to the killed replica"
    with replicas.http(replicas.b) as b:
        for name, experiment_id in acked.experiments.items():
            assert b.get(f"/experiments/{experiment_id}").json()["name"] == name
        for run_id, (key, value) in acked.params.items():
            assert b.get(f"/runs/{run_id}").json()["params"][key] == value
        for run_id, payload in acked.artifacts.items():
            assert b.get(f"/runs/{run_id}/artifacts/out.txt").content == payload
    _verify_audit(replicas.services)


def test_two_engines_appending_at_once_keep_one_valid_audit_chain(pg_url: str) -> None:
    stores = [SqlStore(pg_url), SqlStore(pg_url)]  # two pools, as two replicas have
    try:
        def append(store: SqlStore, who: str) -> None:
            audit = SqlAuditStore(store)
            for i in range(40):
                audit.record(AuditEvent(who, "test.append", f"t:/{i}", now_ms(), {"i": i}))

        threads = [threading.Thread(target=append, args=(s, f"replica-{n}-{k}")) for n, s in enumerate(stores) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report = AuditChainService(SqlAuditStore(stores[0])).verify()
        assert report.intact and report.checked >= 160
    finally:
        for s in stores:
            s.close()


def test_two_processes_limiters_count_the_same_failures(store_url: str) -> None:
    stores = [SqlStore(store_url), SqlStore(store_url)]
    try:
        first, second = (LoginLimiter(3, 60, store=SqlAuthFailureStore(s)) for s in stores)
        first.failure("10.0.0.1", "alice")
        second.failure("10.0.0.1", "alice")
        first.check_password("alice", "10.0.0.1")
        second.failure("10.0.0.1")
        for limiter in (first, second):
            with pytest.raises(RateLimitedError) as caught:
                limiter.check_password("alice", "10.0.0.1")
            assert 0 < caught.value.retry_after <= 60
            assert limiter.address_blocked_for("10.0.0.2") == 0
            limiter.check_password("alice", "10.0.0.2")  # the user limit is five times higher
    finally:
        for s in stores:
            s.close()


def test_failed_logins_are_forgotten_after_the_window(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        failures = SqlAuthFailureStore(store)
        now = now_ms()
        failures.add_failure("address", "10.0.0.9", now - 120_000, forget_before_ms=now - 200_000)
        assert failures.recent_failures("address", "10.0.0.9", now - 200_000, 10) == [now - 120_000]
        # the next failure of anybody drops what has left the window
        failures.add_failure("address", "10.0.0.8", now, forget_before_ms=now - 60_000)
        assert failures.recent_failures("address", "10.0.0.9", 0, 10) == []
    finally:
        store.close()


def test_a_replica_lists_the_audit_checkpoints_another_replica_wrote(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.adapters.artifacts import ArtifactCheckpointStore, ContentAddressedStore

    for name, value in _AWS.items():
        monkeypatch.setenv(name, value)
    root = f"s3://{BUCKET}/{uuid.uuid4().hex}"
    # two processes' filesystems: fsspec would otherwise share one instance (and its cache)
    a, b = (
        ArtifactCheckpointStore(ContentAddressedStore(root, {"endpoint_url": s3_endpoint, "skip_instance_cache": True}))
        for _ in range(2)
    )
    a.write_checkpoint("00000000000000000001.json", b"{}")
    assert a.list_checkpoints() == ["00000000000000000001.json"]  # a listing a filesystem could cache
    assert b.list_checkpoints() == ["00000000000000000001.json"]
    b.write_checkpoint("00000000000000000002.json", b"{}")
    b.delete_checkpoint("00000000000000000001.json")
    assert a.list_checkpoints() == ["00000000000000000002.json"]
