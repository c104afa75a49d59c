"""``steward import mlflow``: copy an MLflow store into Steward (idempotent).

The MLflow store is exported on this machine (it is this machine's store or server to
read); the export is then imported into the embedded store, or sent to the Steward server
in resumable chunks and imported there (administrators).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from ._output import note, print_json, print_table
from ._session import open_client

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
    # imported when the command runs, not with the CLI: keeps `steward --help` fast
    from steward.migrate import export_mlflow

    with open_client() as client, tempfile.TemporaryDirectory(prefix="steward-mlflow-") as tmp:
        folder = keep or Path(tmp) / "export"
        exported = export_mlflow(tracking_uri, folder, python=python)
        summary = client.imports.import_mlflow(folder)
    if as_json:
        print_json({"exported": exported, "imported": summary.to_dict()})
        return
    rows = [[k, str(v)] for k, v in summary.to_dict().items() if k != "warnings"]
    print_table(["what", "count"], rows, title=f"Imported from {tracking_uri}")
    for warning in summary.warnings:
        note(f"warning: {warning}")
