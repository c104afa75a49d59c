"""``steward serve`` (the inference server) and ``steward score`` (batch scoring of a file)."""

from __future__ import annotations

from pathlib import Path

import typer

from steward.errors import InvalidInputError

from ._output import note, print_json
from ._server import is_loopback
from ._session import load_settings


def serve(
    ref: str | None = typer.Argument(None, help="Model to serve: fraud:3, fraud@champion, models:/fraud/3 ..."),
    deployment: str | None = typer.Option(None, "--deployment", help="Serve a deployment and follow its traffic plan."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8080, min=1, max=65_535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (a dead one is replaced)."),
    trusted: bool = typer.Option(False, "--trusted", help="Allow model files that can run code when read (pickle)."),
    server: str = typer.Option("granian", "--server", help="HTTP server: granian or uvicorn (measured within noise of each other; docs/benchmarks.md)."),
) -> None:
    """Serve a model version or a deployment over HTTP: /predict, the Open Inference
    Protocol v2 (/v2/...), /metrics. Ctrl-C or SIGTERM stops after in-flight requests."""
    from steward.serving import ServeTarget, resolve_target, run_server

    settings = load_settings()
    if server not in ("uvicorn", "granian"):
        raise InvalidInputError(f"--server must be uvicorn or granian, not {server[:20]!r}", field="server")
    if ref is not None and deployment is not None:
        raise InvalidInputError("give a model reference or --deployment, not both", field="ref")
    target = resolve_target(ServeTarget(model=ref, deployment=deployment, trusted=trusted), settings)
    if not is_loopback(host):
        note(f"warning: the inference server on {host} answers anyone who can reach it (no authentication)")
    what = f"deployment {target.deployment}" if target.deployment else target.model
    note(f"serving {what} on http://{host}:{port} with {workers} worker(s)")
    run_server(target, settings, host=host, port=port, workers=workers, server=server)


def score(
    ref: str = typer.Argument(..., help="Model: fraud:3, fraud@champion, models:/fraud/3 ..."),
    source: Path = typer.Argument(..., help="Parquet file or folder of Parquet files to score."),  # noqa: B008 - typer idiom
    out: Path = typer.Argument(..., help="Parquet file to write: the input columns plus the predictions."),  # noqa: B008 - typer idiom
    batch_rows: int = typer.Option(65_536, "--batch-rows", min=1, help="Rows read, scored and written at a time."),
    dask: str | None = typer.Option(None, "--dask", help="Score partitions on a Dask cluster: a scheduler address, or 'local'."),
    trusted: bool = typer.Option(False, "--trusted", help="Allow model files that can run code when read (pickle)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Score a Parquet file in chunks (bounded memory) and write the predictions next to the inputs."""
    from steward.serving import score_file, score_file_dask

    settings = load_settings()
    if dask is not None:
        summary = score_file_dask(ref, source, out, scheduler=dask, settings=settings, trusted=trusted, batch_rows=batch_rows)
    else:
        summary = score_file(ref, source, out, settings=settings, trusted=trusted, batch_rows=batch_rows, progress=not as_json)
    if as_json:
        print_json(summary.to_dict())
    else:
        note(f"scored {summary.rows} rows with {summary.model} in {summary.seconds:.1f} s -> {summary.out}")
