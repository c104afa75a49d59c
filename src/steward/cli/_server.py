"""``steward server``: run the REST API; refuses non-loopback addresses until auth exists."""

from __future__ import annotations

import ipaddress

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
        False, "--allow-insecure", help="Bind a non-loopback address although the server has no authentication yet."
    ),
) -> None:
    """Run the Steward server (REST API, MLflow-compatible API)."""
    if not is_loopback(host):
        note(
            f"warning: the Steward server has no authentication yet; on {host} anyone who can "
            "reach it can read and change every experiment, run and artifact."
        )
        if not allow_insecure:
            raise InvalidInputError(
                f"refusing to bind non-loopback address {host}; pass --allow-insecure to do it anyway",
                field="host",
            )
    # Fail on bad STEWARD_* values here, as one line, rather than inside uvicorn's worker.
    load_settings()
    from steward.server import serve  # the server stack is heavy; only this command needs it

    serve(host, port, workers=workers)
