"""``steward triggers create|list|show|delete|fire|history|tick``: triggers that start pipelines."""

from __future__ import annotations

from pathlib import Path

import typer

from steward.errors import CheckFailedError
from steward.triggers import Trigger, TriggerStart

from ._output import echo, print_json, print_table
from ._pipeline import parse_params
from ._session import open_client
from ._time import format_time

app = typer.Typer(
    name="triggers", help="Triggers that start pipelines: cron, dataset versions, alerts, registry events.", no_args_is_help=True
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
NAME_ARGUMENT = typer.Argument(..., help="Trigger name: lowercase letters, digits, '-'.")
PARAM_OPTION = typer.Option([], "--param", "-p", help="A pipeline parameter, KEY=VALUE (repeatable).")


def _watched(t: Trigger) -> str:
    s = t.source
    if t.kind == "cron":
        return f"{s.get('schedule')} {s.get('timezone', 'UTC')}"
    if t.kind == "registry":
        return f"{s.get('model')} ({', '.join(s.get('events', []))})"
    return str(s.get("monitor") or s.get(t.kind, ""))


def _start_rows(starts: list[TriggerStart]) -> list[list[str]]:
    return [
        [str(s.id), s.trigger, s.event_key, s.status, s.run_id or "", format_time(s.started_at), (s.error or "")[:80]]
        for s in starts
    ]


def _fail_if_failed(starts: list[TriggerStart]) -> None:
    failed = [s for s in starts if s.status == "failed"]
    if failed:
        first = failed[0]
        raise CheckFailedError(f"trigger {first.trigger}: pipeline failed ({first.event_key}): {first.error or 'see its run'}")


@app.command("create")
def create(
    name: str = NAME_ARGUMENT,
    kind: str = typer.Option(..., "--kind", help="cron, dataset, alert or registry."),
    pipeline: Path = typer.Option(..., "--pipeline", help="The Python file defining the @steward.pipeline to start."),  # noqa: B008
    pipeline_name: str | None = typer.Option(None, "--pipeline-name", help="Which pipeline, when the file defines several."),
    params: list[str] = PARAM_OPTION,
    input_param: str = typer.Option("", "--input", help="The parameter given the event's input (default: data, model; none for cron)."),
    no_input: bool = typer.Option(False, "--no-input", help="Pass the event's input to no parameter."),
    schedule: str | None = typer.Option(None, "--schedule", help="cron: a 5-field cron expression, e.g. '0 3 * * *'."),
    timezone: str = typer.Option("UTC", "--timezone", help="cron: the schedule's timezone (UTC only)."),
    dataset: str | None = typer.Option(None, "--dataset", help="dataset: start on each new version of this dataset."),
    alert: str | None = typer.Option(None, "--alert", help="alert: start each time this alert rule fires."),
    monitor: str | None = typer.Option(None, "--monitor", help="alert: instead, start each time this monitor's window drifts."),
    model: str | None = typer.Option(None, "--model", help="registry: the registered model watched."),
    events: list[str] = typer.Option([], "--event", help="registry: version_created, approved, alias_moved (repeatable; default all)."),  # noqa: B008
    project: str | None = typer.Option(None, "--project", help="The trigger's project (default: its name)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a trigger: each new event of its kind starts the pipeline, with the event's input as a parameter."""
    values = parse_params(params)
    # the file's absolute path: the same file whether the triggers run here or on a server sharing it
    where = str(pipeline.resolve()) if pipeline.exists() else str(pipeline)
    with open_client() as client:
        trigger = client.triggers.create_trigger(
            name, kind, where, pipeline_name=pipeline_name, params=values, input_param=None if no_input else input_param,
            schedule=schedule, timezone=timezone, dataset=dataset, alert=alert, model=model, events=events or None,
            project=project, monitor=monitor,
        )
    if as_json:
        print_json(trigger.to_dict())
        return
    echo(f"trigger {trigger.name} ({trigger.kind}, project {trigger.project}) starts {trigger.pipeline['file']} on {_watched(trigger)}")


@app.command("list")
def list_(
    project: str | None = typer.Option(None, "--project", help="Only this project's triggers."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List triggers."""
    with open_client() as client:
        triggers = client.triggers.list_triggers(project)
    if as_json:
        print_json({"triggers": [t.to_dict() for t in triggers]})
        return
    rows = [[t.name, t.kind, _watched(t), Path(str(t.pipeline.get("file"))).name, t.project, format_time(t.next_fire_at)] for t in triggers]
    print_table(["NAME", "KIND", "WATCHES", "PIPELINE", "PROJECT", "NEXT TICK"], rows)


@app.command("show")
def show(name: str = NAME_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Show a trigger and its latest starts."""
    with open_client() as client:
        trigger = client.triggers.get_trigger(name)
        starts = client.triggers.history(name, 10)
    if as_json:
        print_json({**trigger.to_dict(), "starts": [s.to_dict() for s in starts]})
        return
    p = trigger.pipeline
    echo(f"trigger {trigger.name}: {trigger.kind} on {_watched(trigger)}; project {trigger.project}")
    echo(f"pipeline {p.get('file')}{' (' + str(p['name']) + ')' if p.get('name') else ''}, input -> {p.get('input') or 'none'}, params {p.get('params') or {}}")
    print_table(["ID", "TRIGGER", "EVENT", "STATUS", "RUN", "STARTED", "ERROR"], _start_rows(starts))


@app.command("history")
def history(
    name: str = NAME_ARGUMENT,
    max_results: int = typer.Option(50, "--max-results", min=1, max=10_000, help="At most this many starts."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A trigger's pipeline starts, newest first, with their status and run."""
    with open_client() as client:
        starts = client.triggers.history(name, max_results)
    if as_json:
        print_json({"starts": [s.to_dict() for s in starts]})
        return
    print_table(["ID", "TRIGGER", "EVENT", "STATUS", "RUN", "STARTED", "ERROR"], _start_rows(starts))


@app.command("delete")
def delete(name: str = NAME_ARGUMENT) -> None:
    """Delete a trigger and its history."""
    with open_client() as client:
        client.triggers.delete_trigger(name)
    echo(f"trigger {name} deleted")


@app.command("fire")
def fire(name: str = NAME_ARGUMENT, params: list[str] = PARAM_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Start the trigger's pipeline now with its latest input; exit 1 when the pipeline fails."""
    values = parse_params(params)
    with open_client() as client:
        start = client.triggers.fire(name, params=values)
    if as_json:
        print_json(start.to_dict())
    else:
        echo(f"trigger {start.trigger}: start {start.id} {start.status}, run {start.run_id or '-'}")
    _fail_if_failed([start])


@app.command("tick")
def tick(as_json: bool = JSON_OPTION) -> None:
    """Look at every trigger once and run the pipelines of new events (for tests and cron-less setups)."""
    with open_client() as client:
        starts = client.triggers.run_due()
    if as_json:
        print_json({"starts": [s.to_dict() for s in starts]})
    else:
        print_table(["ID", "TRIGGER", "EVENT", "STATUS", "RUN", "STARTED", "ERROR"], _start_rows(starts))
    _fail_if_failed(starts)
