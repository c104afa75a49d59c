"""Fixtures of the web UI's tests: seeded stores, live servers (authentication off and on)
and, for the browser tests, Debian's chromium driven by the ``playwright`` package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_world import CHROMIUM, Console, Seeded


@pytest.fixture(scope="module")
def seeded_open(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return Seeded(tmp_path_factory.mktemp("ui-open"), "off")


@pytest.fixture(scope="module")
def seeded_auth(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return Seeded(tmp_path_factory.mktemp("ui-auth"), "on")


@pytest.fixture(scope="module")
def open_server(seeded_open: Seeded) -> Iterator[Any]:  # Any: live_server.LiveServer
    from live_server import LiveServer

    server = LiveServer(seeded_open.env())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def auth_server(seeded_auth: Seeded) -> Iterator[Any]:  # Any: live_server.LiveServer
    from live_server import LiveServer

    server = LiveServer(seeded_auth.env())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:  # Any: playwright's Browser
    from playwright import sync_api  # the dev extra; never skipped

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test installs it)")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, Console]]:  # Any: playwright objects
    scheme = getattr(request, "param", "light")
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    console = Console(tab)
    yield tab, console
    context.close()


