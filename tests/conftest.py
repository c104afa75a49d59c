"""Shared fixtures: real stores (SQLite and PostgreSQL), services, clients, a live server.

PostgreSQL tests run when ``STEWARD_TEST_POSTGRES_URL`` is set or PostgreSQL answers at
127.0.0.1:5432; in CI (``CI=true``) an unreachable PostgreSQL fails instead of skipping,
so the suite can never silently stop exercising it. Each test gets its own schema.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from live_server import LiveServer, free_port  # noqa: F401  (free_port: re-exported for older tests)
from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.sql import SqlStore
from steward.settings import Settings
from steward.tracking import TrackingService
from steward.wiring import Services

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (and the browser tests) run first, each group in its usual order.

    pytest-xdist hands tests to its workers in this order: the long ones start while the many
    short ones fill the gaps, instead of one long test running alone at the end of CI.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None and "/tests/ui/" not in str(item.path))


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
        # "auto" would turn authentication on for PostgreSQL; auth tests opt in explicitly
        auth="off",
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


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The real server on the parametrised store (SQLite file or PostgreSQL schema)."""
    env = {
        "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(),
        "STEWARD_HOME": str(settings.home),
        "STEWARD_USER": "server",
        "STEWARD_AUTH": "off",
    }
    server = LiveServer(env)
    yield server
    server.stop()


class SyncASGITransport(httpx.BaseTransport):
    """Serve a synchronous ``httpx.Client`` from an ASGI app in this process.

    httpx's ``ASGITransport`` is async-only and starlette's ``TestClient`` emits a
    deprecation warning (an error here), so the app runs on an event loop in a helper
    thread. Thread-safe: the SDK's background flusher may call while the test does.
    App exceptions become 500 responses (as under uvicorn) so tests can assert on them.
    """

    def __init__(self, app: Any) -> None:  # Any: any ASGI application
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-loop", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, httpx.Headers, bytes]:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._asgi.handle_async_request(forwarded)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = asyncio.run_coroutine_threadsafe(call(), self._loop).result()
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:  # Any: FastAPI, imported lazily
    """The server application on the parametrised store, in this process."""
    from steward.server import create_app

    return create_app(settings, services)


@pytest.fixture
def asgi_transport(app: Any) -> Iterator[SyncASGITransport]:
    """A synchronous httpx transport into ``app`` (for ``HttpBackend(transport=...)``)."""
    transport = SyncASGITransport(app)
    yield transport
    transport.close()


@pytest.fixture
def api(asgi_transport: SyncASGITransport) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` calling the in-process app (fast; same code as the live server)."""
    with httpx.Client(transport=asgi_transport, base_url="http://steward.test") as client:
        yield client


@pytest.fixture
def asgi_client() -> Iterator[Callable[[Any], httpx.Client]]:
    """A factory of ``httpx.Client``s onto any ASGI app in this process, closed afterwards."""
    clients: list[httpx.Client] = []

    def make(app: Any) -> httpx.Client:  # Any: any ASGI application
        client = httpx.Client(transport=SyncASGITransport(app), base_url="http://steward.test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Like ``settings``, but one store per test module and backend.

    For many fast tests that each leave the store as they found it (bad-input tables):
    a fresh, migrated database per test costs about a second, most of the suite's time.
    """
    root = tmp_path_factory.mktemp("shared")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'steward.db'}"
    else:
        if PG_BASE is None:
            if os.environ.get("CI") == "true":
                pytest.fail("PostgreSQL is not reachable in CI")
            pytest.skip("PostgreSQL not reachable")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = pg_schema_url(schema)
    yield Settings(home=root / "home", database_url=url, artifact_root=str(root / "artifacts"), user="tester", capture_git=False, auth="off")
    if schema is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sync_asgi_transport() -> type[SyncASGITransport]:
    """The :class:`SyncASGITransport` class, for module-scoped fixtures (no conftest imports)."""
    return SyncASGITransport


MLFLOW_PYTHON = Path(__file__).resolve().parents[1] / "bench" / ".venv-mlflow" / "bin" / "python"


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    """The python of the MLflow venv (``bench/mlflow_env.sh``), installed once when missing.

    The script is idempotent and holds a lock while it installs, so xdist workers (and the
    install ``.ci/run`` starts in the background before the tests) never install it twice
    at once, and a half-made venv is never used; no test skips for want of it.
    """
    subprocess.run(["bash", str(MLFLOW_PYTHON.parents[2] / "mlflow_env.sh")], check=True, timeout=1500)
    return MLFLOW_PYTHON
