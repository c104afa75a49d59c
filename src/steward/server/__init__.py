"""The Steward server: a thin ASGI layer over the stage services."""

from __future__ import annotations

from collections.abc import Sequence

from ._app import create_app

__all__ = ["create_app", "serve"]


def serve(host: str = "127.0.0.1", port: int = 5000, *, workers: int = 1, trusted_proxies: Sequence[str] = ()) -> None:
    """Run the server with uvicorn (blocking). Settings come from ``STEWARD_*``.

    Args:
        trusted_proxies: the only peers whose ``X-Forwarded-For`` uvicorn believes
            (``STEWARD_TRUSTED_PROXIES``); none by default, where uvicorn itself would
            believe any local peer.
    """
    import uvicorn

    uvicorn.run(
        "steward.server._factory:app", host=host, port=port, workers=workers, factory=True, log_level="info",
        proxy_headers=bool(trusted_proxies), forwarded_allow_ips=",".join(trusted_proxies) or None,
    )
