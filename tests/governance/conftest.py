"""Fixtures of the governance tests: an app with authentication on, users per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from steward.settings import Settings
from steward.wiring import Services

ALL_SCOPES = ("read", "write", "admin")


@pytest.fixture
def auth_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth": "on"})


@pytest.fixture
def auth_app(auth_settings: Settings, services: Services) -> Any:  # Any: FastAPI
    from steward.server import create_app

    return create_app(auth_settings, services)


@pytest.fixture
def admin_token(services: Services) -> str:
    """The token of the bootstrapped global administrator ``root``."""
    return services.governance("setup").bootstrap_admin("root", "root@example.com").secret


@pytest.fixture
def auth_api(auth_app: Any, sync_asgi_transport: Any) -> Iterator[httpx.Client]:
    """An unauthenticated httpx client onto the auth-on app; pass headers per request."""
    transport = sync_asgi_transport(auth_app)
    with httpx.Client(transport=transport, base_url="http://steward.test") as client:
        yield client
    transport.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
