"""What every command starts from: the settings and a client, embedded or remote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from steward.errors import InvalidInputError
from steward.sdk import Client
from steward.settings import Settings

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
