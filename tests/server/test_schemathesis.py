"""Property-based run of schemathesis against the server's own OpenAPI document.

Every operation gets bounded examples (20 each) (valid and invalid) on a fresh SQLite store, with
authentication off; each answer must not be a 5xx and must use a documented status code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from steward.server import create_app
from steward.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:  # Any: FastAPI
    root: Path = tmp_path_factory.mktemp("schemathesis")
    return create_app(
        Settings(home=root, user="fuzzer", auth="off", capture_git=False, capture_packages=False, max_request_bytes=1_000_000)
    )


@pytest.fixture(scope="module")
def http(app: Any, sync_asgi_transport: Any) -> Iterator[httpx.Client]:
    transport = sync_asgi_transport(app)
    with httpx.Client(transport=transport, base_url="http://steward.test") as client:
        yield client
    transport.close()


# cookies are dropped: the API reads none, and per-request cookies are deprecated in httpx
_FIELDS = ("method", "url", "headers", "params", "json", "content", "data", "files")


def test_no_operation_answers_5xx_or_an_undocumented_status(app: Any, http: httpx.Client) -> None:
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def check(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://steward.test")
            response = http.request(**{k: v for k, v in kwargs.items() if k in _FIELDS})
            response.elapsed = timedelta(0)  # the in-process transport has no network time
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            check()
        except Exception as exc:  # collected: one report naming every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).splitlines()[0:6]}")
    assert operations > 50
    assert failures == [], "\n".join(failures)
