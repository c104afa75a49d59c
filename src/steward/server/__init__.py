"""The Steward server: a thin ASGI layer over the stage services."""

from __future__ import annotations

from ._app import create_app

__all__ = ["create_app", "serve"]


def serve(host: str = "127.0.0.1", port: int = 5000, *, workers: int = 1) -> None:
    """Run the server with uvicorn (blocking). Settings come from ``STEWARD_*``."""
    import uvicorn

    uvicorn.run("steward.server._factory:app", host=host, port=port, workers=workers, factory=True, log_level="info")
