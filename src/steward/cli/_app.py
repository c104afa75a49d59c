"""Root typer app; noun groups register here."""

from __future__ import annotations

import typer

app = typer.Typer(name="steward", help="Steward: carry a model through its whole life.", no_args_is_help=True)


@app.callback()
def root() -> None:
    """Steward: carry a machine-learning model through its whole life."""


@app.command()
def server(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(5000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Uvicorn worker processes."),
) -> None:
    """Run the Steward server (REST API, MLflow-compatible API)."""
    from steward.server import serve

    serve(host, port, workers=workers)


def main() -> None:
    app()


def _register_groups() -> None:
    from . import _evaluate
    from ._data import data_app
    from ._models import models_app

    app.add_typer(data_app, name="data")
    app.add_typer(models_app, name="models")
    _evaluate.register(app)


_register_groups()
