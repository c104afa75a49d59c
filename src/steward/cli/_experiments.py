"""``steward experiments list|create|delete``."""

from __future__ import annotations

from typing import Annotated

import typer

from steward.core import Experiment
from steward.core.codec import experiment_to_dict
from steward.errors import InvalidInputError, NotFoundError
from steward.sdk import Client

from ._output import echo, note, print_json, print_table
from ._session import open_client
from ._time import format_time

app = typer.Typer(name="experiments", help="Create, list and delete experiments.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


def resolve_experiment(client: Client, ref: str) -> Experiment:
    """The experiment named ``ref``, or with id ``ref`` when it is a number.

    A name wins over an id, since experiment names may be numbers too.

    Raises:
        NotFoundError: when neither exists.
    """
    found = client.backend.get_experiment_by_name(ref)
    if found is not None:
        return found
    if ref.isdigit():
        return client.backend.get_experiment(ref)
    raise NotFoundError(f"experiment {ref[:100]!r} not found", field="experiment")


@app.command("list")
def list_experiments(
    include_deleted: bool = typer.Option(False, "--all", help="Include deleted experiments."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List experiments."""
    with open_client() as client:
        items = client.backend.list_experiments(include_deleted=include_deleted)
    if as_json:
        print_json({"experiments": [experiment_to_dict(e) for e in items]})
        return
    if not items:
        note("No experiments yet; `steward experiments create NAME` makes one.")
        return
    headers = ["ID", "NAME", "CREATED"] + (["STAGE"] if include_deleted else [])
    rows = [
        [e.experiment_id, e.name, format_time(e.created_at)] + ([e.lifecycle_stage] if include_deleted else [])
        for e in items
    ]
    print_table(headers, rows)


@app.command("create")
def create_experiment(
    name: str = typer.Argument(..., help="Experiment name (unique)."),
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE tag; repeatable.")] = None,
    project: str | None = typer.Option(
        None, "--project", help="Project of a new experiment (default: STEWARD_PROJECT, else its name)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an experiment; exits 5 when the name is taken."""
    tags: dict[str, object] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--tag must be KEY=VALUE, got {item[:100]!r}", field="tag")
        tags[key] = value
    with open_client() as client:
        created = client.create_experiment(name, tags, project=project)
    if as_json:
        print_json(experiment_to_dict(created))
    else:
        echo(f"Created experiment {created.name!r} with id {created.experiment_id}.")


@app.command("delete")
def delete_experiment(
    ref: str = typer.Argument(..., metavar="ID_OR_NAME", help="Experiment name or id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete an experiment (soft: its runs are hidden, not erased)."""
    with open_client() as client:
        found = resolve_experiment(client, ref)
        deleted = client.backend.delete_experiment(found.experiment_id)
    if as_json:
        print_json(experiment_to_dict(deleted))
    else:
        echo(f"Deleted experiment {deleted.name!r} (id {deleted.experiment_id}).")
