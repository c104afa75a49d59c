"""What every command starts from: the settings and a client, embedded or remote."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import ValidationError

from steward.errors import InvalidInputError
from steward.sdk import Client, HttpBackend
from steward.settings import Settings

T = TypeVar("T")

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")


def load_settings() -> Settings:
    """``Settings()`` from the environment; a bad ``STEWARD_*`` value is a usage error.

    Raises:
        InvalidInputError: naming the variable (never echoing its value: it may be a secret).
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"STEWARD_{str(first['loc'][0]).upper()}" if first["loc"] else "STEWARD_*"
        raise InvalidInputError(f"setting {name} is invalid: {first['msg']}", field=name) from None


@contextmanager
def open_client(settings: Settings | None = None) -> Iterator[Client]:
    """A :class:`~steward.sdk.Client` for one command, closed afterwards.

    With ``STEWARD_TRACKING_URI=http(s)://...`` it talks to that server, otherwise it opens
    the embedded store, so every command works both ways.
    """
    client = Client(settings or load_settings())
    try:
        yield client
    finally:
        client.close()


def mask_url(text: str) -> str:
    """Hide the password in ``scheme://user:password@host`` URLs."""
    return _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)


def run_local_or_remote(
    service: Callable[[Any], Any],  # Any: steward.wiring.Services -> a stage service
    local: Callable[[Any], T],  # Any: that stage service
    remote: Callable[[HttpBackend], T],
) -> T:
    """Run ``local`` on a stage service of the embedded store, or ``remote`` against the server.

    ``service`` picks the stage service from the process's services, e.g.
    ``lambda s: s.secrets(actor)``.
    """
    settings = load_settings()
    if settings.is_remote():
        with open_client(settings) as client:
            backend = client.backend
            if not isinstance(backend, HttpBackend):  # is_remote() always builds one
                raise InvalidInputError("STEWARD_TRACKING_URI does not name a server", field="tracking_uri")
            return remote(backend)
    from steward.wiring import build_services, default_actor

    services = build_services(settings)
    try:
        return local(service(services)(default_actor(settings)))
    finally:
        services.close()
