"""Registry fixtures: a client and a registry service on the parametrised store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from steward import Client, Settings
from steward.registry import RegistryService
from steward.wiring import Services


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


@pytest.fixture
def registry(services: Services) -> RegistryService:
    return services.registry("tester")
