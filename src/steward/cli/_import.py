"""``steward import mlflow``: copy an MLflow store into Steward (idempotent)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from steward.errors import InvalidInputError
from steward.migrate import export_mlflow, import_dump
from steward.wiring import build_services

from ._output import note, print_json, print_table
from ._session import load_settings

app = typer.Typer(name="import", help="Bring runs and models in from other tools.", no_args_is_help=True)


@app.command("mlflow")
def mlflow(
    tracking_uri: str = typer.Option(..., "--tracking-uri", help="The MLflow store: sqlite:///mlflow.db, a folder, or http://host:5000."),
    python: str | None = typer.Option(None, "--python", help="A python that has mlflow installed (default: this one)."),
    keep: Path | None = typer.Option(None, "--keep-export", help="Keep the exported dump in this folder."),  # noqa: B008 - typer idiom
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Copy experiments, runs (params, tags, metric history, artifacts), registered models,
    versions and aliases from MLflow. Running it again changes nothing already imported."""
    settings = load_settings()
    if settings.is_remote():
        raise InvalidInputError("steward import works on the embedded store (or the server's store) directly", field="tracking_uri")
    with tempfile.TemporaryDirectory(prefix="steward-mlflow-") as tmp:
        folder = keep or Path(tmp) / "export"
        exported = export_mlflow(tracking_uri, folder, python=python)
        services = build_services(settings)
        try:
            summary = import_dump(folder, services.tracking(), services.registry())
        finally:
            services.close()
    if as_json:
        print_json({"exported": exported, "imported": summary.to_dict()})
        return
    rows = [[k, str(v)] for k, v in summary.to_dict().items() if k != "warnings"]
    print_table(["what", "count"], rows, title=f"Imported from {tracking_uri}")
    for warning in summary.warnings:
        note(f"warning: {warning}")
