"""``steward pipeline run [FILE]``: run a file's ``@steward.pipeline`` (or a pipeline declared in
``steward.yaml``), each step cached and recorded as a run linked to the pipeline's run."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from steward.errors import InvalidInputError

from ._output import echo, print_json, print_table
from ._session import open_client

app = typer.Typer(name="pipeline", help="Pipelines of cached steps, each recorded as a run.", no_args_is_help=True)


def parse_params(pairs: list[str]) -> dict[str, object]:
    """``k=v`` pairs; a value that reads as JSON (1, 0.5, true, "x") is that value, else text."""
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise InvalidInputError(f"--param takes KEY=VALUE with KEY a Python name, got {pair[:80]!r}", field="--param")
        try:
            values[key.strip()] = json.loads(text)
        except ValueError:
            values[key.strip()] = text
    return values


@app.command("run")
def run(
    file: Path | None = typer.Argument(  # noqa: B008 - typer idiom
        None, help="A Python file defining a @steward.pipeline function, or a project YAML file (default: ./steward.yaml)."
    ),
    params: list[str] = typer.Option([], "--param", "-p", help="A pipeline parameter, KEY=VALUE (repeatable)."),  # noqa: B008
    name: str | None = typer.Option(None, "--name", help="Which pipeline, when the file defines several."),
    executor: str = typer.Option("local", "--executor", help="local (steps in this process or their own subprocess) or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="With --executor dask: the scheduler ADDRESS, or local."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """Run a pipeline: unchanged steps are skipped (cached) and say so; exit 1 when a step fails."""
    from steward.pipelines import load_pipeline, run_pipeline

    values = parse_params(params)
    if file is None or file.suffix in (".yaml", ".yml"):
        from steward.pipelines import load_project_pipeline

        pipe = load_project_pipeline(file, name)  # steward.yaml's pipelines: section
    else:
        pipe = load_pipeline(file, name)
    with open_client() as client:
        # a failed step: CheckFailedError, exit 1 naming it, its error and attempts
        result = run_pipeline(pipe, client, values, executor=executor, scheduler=scheduler)
    if as_json:
        print_json(result.to_dict())
        return
    rows = [[s.name, s.status, s.run_id, s.cache_key[:12], f"{s.seconds:.2f}s", s.cached_from or ""] for s in result.steps]
    print_table(["STEP", "STATUS", "RUN", "KEY", "TIME", "CACHED FROM"], rows)
    cached = sum(1 for s in result.steps if s.status == "cached")
    echo(f"pipeline {result.name}: run {result.run_id}, {len(result.steps)} steps, {cached} cached")
