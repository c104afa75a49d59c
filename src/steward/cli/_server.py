"""``steward server``: run the REST API; never unauthenticated on a public address unless told."""

from __future__ import annotations

import ipaddress
import os

import typer

from steward.errors import InvalidInputError

from ._output import note
from ._session import load_settings


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1); False for anything else.

    Other host names count as non-loopback: resolving them could change between this check
    and the bind, and refusing is the safe side.
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(5000, min=1, max=65_535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Uvicorn worker processes."),
    allow_insecure: bool = typer.Option(
        False, "--allow-insecure", help="Bind a non-loopback address with authentication off (STEWARD_AUTH=off)."
    ),
) -> None:
    """Run the Steward server (REST API, MLflow-compatible API).

    Authentication (STEWARD_AUTH) is on when set to ``on``, and with ``auto`` (the default)
    whenever the address is not loopback or the store is PostgreSQL.
    """
    # Fail on bad STEWARD_* values here, as one line, rather than inside uvicorn's worker.
    settings = load_settings()
    loopback = is_loopback(host)
    if settings.auth == "auto" and not loopback:
        # uvicorn's workers build their own Settings() from the environment: hand the
        # decision down the same way
        os.environ["STEWARD_AUTH"] = "on"
    elif not settings.auth_required() and not loopback:
        note(
            f"warning: authentication is off (STEWARD_AUTH={settings.auth}); on {host} anyone who can "
            "reach the server can read and change every experiment, run and artifact."
        )
        if not allow_insecure:
            raise InvalidInputError(
                f"refusing to bind non-loopback address {host} without authentication; "
                "pass --allow-insecure to do it anyway",
                field="host",
            )
    from steward.server import serve  # the server stack is heavy; only this command needs it

    serve(host, port, workers=workers, trusted_proxies=settings.trusted_proxies)
