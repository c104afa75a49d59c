"""Shared fixtures: real stores (SQLite and PostgreSQL), services, clients, a live server.

PostgreSQL tests run when ``STEWARD_TEST_POSTGRES_URL`` is set or PostgreSQL answers at
127.0.0.1:5432; in CI (``CI=true``) an unreachable PostgreSQL fails instead of skipping,
so the suite can never silently stop exercising it. Each test gets its own schema.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.sql import SqlStore
from steward.settings import Settings
from steward.tracking import TrackingService
from steward.wiring import Services

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_base_url() -> str | None:
    url = os.environ.get("STEWARD_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_PG
    except OSError:
        return None


PG_BASE = _pg_base_url()


def pg_schema_url(schema: str) -> str:
    """A URL whose connections use ``schema`` as the search path."""
    assert PG_BASE is not None
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    if PG_BASE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable in CI")
        pytest.skip("PostgreSQL not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrises a test over a SQLite file and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'steward.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=store_url,
        artifact_root=str(tmp_path / "artifacts"),
        user="tester",
        capture_git=False,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[SqlStore]:
    s = SqlStore(settings.resolved_database_url())
    yield s
    s.close()


@pytest.fixture
def blobs(settings: Settings) -> ContentAddressedStore:
    return ContentAddressedStore(settings.resolved_artifact_root())


@pytest.fixture
def services(settings: Settings, store: SqlStore, blobs: ContentAddressedStore) -> Services:
    return Services(settings, store, blobs)


@pytest.fixture
def tracking(services: Services) -> TrackingService:
    return services.tracking("tester")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real ``steward server`` process on a free loopback port."""

    def __init__(self, env: dict[str, str], args: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(self.port), *(args or [])],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"server exited early: {out[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The real server on the parametrised store (SQLite file or PostgreSQL schema)."""
    env = {
        "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(),
        "STEWARD_HOME": str(settings.home),
        "STEWARD_USER": "server",
    }
    server = LiveServer(env)
    yield server
    server.stop()
