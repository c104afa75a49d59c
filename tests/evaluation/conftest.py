"""Evaluation fixtures: a client, and the world of ``evaluation_testing.register_models``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from evaluation_testing import World, register_models

from steward import Client, Settings
from steward.wiring import Services


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    c = Client(settings.model_copy(update={"capture_packages": False}))
    yield c
    c.close()


@pytest.fixture
def world(client: Client, services: Services) -> World:
    return register_models(client, services)
