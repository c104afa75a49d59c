"""``steward runs list|show|compare|delete``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.core import Run, RunStatus
from steward.core.codec import float_out, run_to_dict
from steward.sdk import Client
from steward.tracking import ArtifactInfo

from ._experiments import resolve_experiment
from ._output import blank_line, echo, format_value, note, print_block, print_json, print_table
from ._session import open_client
from ._time import format_elapsed, format_time

app = typer.Typer(name="runs", help="Search, inspect, compare and delete runs.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")
# Tags Steward records on every run; `runs show` lists them apart from the user's tags.
SYSTEM_TAG_PREFIX = "steward."
_METRICS_IN_LIST = 4


def _experiment_names(client: Client) -> dict[str, str]:
    return {e.experiment_id: e.name for e in client.backend.list_experiments(include_deleted=True)}


def _metrics_summary(run: Run) -> str:
    keys = sorted(run.metrics)
    shown = ", ".join(f"{k}={format_value(run.metrics[k].value)}" for k in keys[:_METRICS_IN_LIST])
    return shown + (f", +{len(keys) - _METRICS_IN_LIST} more" if len(keys) > _METRICS_IN_LIST else "")


@app.command("list")
def list_runs(
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Experiment name or id; repeatable. Default: all."),
    ] = None,
    filter_: str | None = typer.Option(
        None, "--filter", "-f", help="Filter expression, e.g. \"metrics.auc > 0.9 and params.model = 'gbm'\"."
    ),
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", "-o", help="e.g. 'metrics.auc DESC'; repeatable.")
    ] = None,
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, max=10_000, help="At most this many runs."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a previous listing."),
    include_deleted: bool = typer.Option(False, "--all", help="Include deleted runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    with open_client() as client:
        # An unknown experiment is an error, not an empty listing: a typo must not look like
        # "no runs". Names go on to the search (it resolves names before ids).
        names_wanted = [resolve_experiment(client, ref).name for ref in experiment or []] or None
        page = client.backend.search_runs(
            names_wanted,
            filter=filter_,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        names = _experiment_names(client) if not as_json else {}
    if as_json:
        print_json({"runs": [run_to_dict(r) for r in page.runs], "next_page_token": page.next_page_token})
        return
    if not page.runs:
        note("No runs match.")
        return
    rows = [
        [
            r.run_id,
            names.get(r.experiment_id, r.experiment_id),
            r.name,
            r.status.value,
            format_time(r.start_time),
            format_elapsed(r.start_time, r.end_time),
            _metrics_summary(r),
        ]
        for r in page.runs
    ]
    print_table(["RUN ID", "EXPERIMENT", "NAME", "STATUS", "STARTED", "DURATION", "METRICS"], rows)
    if page.next_page_token:
        note(f"More runs: add --page-token {page.next_page_token}")


def _artifact_dict(a: ArtifactInfo) -> dict[str, Any]:  # Any: JSON values
    return {"path": a.path, "digest": a.digest, "size": a.size, "created_at": a.created_at}


@app.command("show")
def show_run(
    run_id: str = typer.Argument(..., help="The run's 32-hex id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one run: info, params, latest metrics, tags, artifacts and, if it failed, the traceback."""
    with open_client() as client:
        run = client.get_run(run_id)
        experiment = client.backend.get_experiment(run.experiment_id)
        artifacts = client.list_artifacts(run_id)
        failure = client.backend.get_run_failure(run_id) if run.status is RunStatus.FAILED else None
    if as_json:
        doc = run_to_dict(run)
        doc["experiment_name"] = experiment.name
        doc["artifacts"] = [_artifact_dict(a) for a in artifacts]
        doc["failure"] = failure
        print_json(doc)
        return
    info = [
        ["run id", run.run_id],
        ["name", run.name],
        ["experiment", f"{experiment.name} (id {experiment.experiment_id})"],
        ["status", run.status.value + ("" if run.lifecycle_stage == "active" else f" ({run.lifecycle_stage})")],
        ["user", run.user],
        ["started", format_time(run.start_time)],
        ["ended", format_time(run.end_time)],
        ["duration", format_elapsed(run.start_time, run.end_time)],
        ["artifacts", run.artifact_uri],
    ]
    if run.note:
        info.append(["note", run.note])
    if run.inputs:
        info.append(["inputs", ", ".join(f"{i.dataset} ({i.role})" for i in run.inputs)])
    print_table(["FIELD", "VALUE"], info, title="Run", show_header=False)
    if run.params:
        blank_line()
        print_table(["PARAM", "VALUE"], [[k, v] for k, v in sorted(run.params.items())], title="Params")
    if run.metrics:
        blank_line()
        metric_rows = [
            [k, format_value(m.value), str(m.step), format_time(m.timestamp)] for k, m in sorted(run.metrics.items())
        ]
        print_table(["METRIC", "LATEST", "STEP", "LOGGED"], metric_rows, title="Metrics")
    user_tags = {k: v for k, v in run.tags.items() if not k.startswith(SYSTEM_TAG_PREFIX)}
    system_tags = {k: v for k, v in run.tags.items() if k.startswith(SYSTEM_TAG_PREFIX)}
    for title, tags in (("Tags", user_tags), ("Captured", system_tags)):
        if tags:
            blank_line()
            print_table(["TAG", "VALUE"], [[k, v] for k, v in sorted(tags.items())], title=title)
    if artifacts:
        blank_line()
        print_table(
            ["PATH", "SIZE", "SHA256"], [[a.path, str(a.size), a.digest[:12]] for a in artifacts], title="Artifacts"
        )
    if failure:
        blank_line()
        print_block("Failure", failure)


@app.command("compare")
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(metavar="RUN_ID", help="Two or more run ids.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare runs side by side: params (differences highlighted) and latest metrics."""
    unique = list(dict.fromkeys(run_ids))
    if len(unique) < 2:
        raise typer.BadParameter("give at least two different run ids", param_hint="RUN_ID")
    with open_client() as client:
        runs = [client.get_run(rid) for rid in unique]
    param_keys = sorted({k for r in runs for k in r.params})
    metric_keys = sorted({k for r in runs for k in r.metrics})
    differing = [k for k in param_keys if len({r.params.get(k) for r in runs}) > 1]
    if as_json:
        print_json(
            {
                "runs": [
                    {"run_id": r.run_id, "name": r.name, "experiment_id": r.experiment_id, "status": r.status.value}
                    for r in runs
                ],
                "params": {k: {r.run_id: r.params.get(k) for r in runs} for k in param_keys},
                "metrics": {
                    k: {r.run_id: float_out(r.metrics[k].value) if k in r.metrics else None for r in runs}
                    for k in metric_keys
                },
                "differing_params": differing,
            }
        )
        return
    headers = ["KEY"] + [f"{r.name} ({r.run_id[:8]})" for r in runs]
    rows = [["status"] + [r.status.value for r in runs]]
    rows += [[f"params.{k}"] + [r.params.get(k, "") for r in runs] for k in param_keys]
    rows += [
        [f"metrics.{k}"] + [format_value(r.metrics[k].value) if k in r.metrics else "" for r in runs]
        for k in metric_keys
    ]
    diff_set = set(differing)
    marked = [False] + [k in diff_set for k in param_keys] + [False] * len(metric_keys)
    print_table(headers, rows, marked=marked)


@app.command("delete")
def delete_run(
    run_id: str = typer.Argument(..., help="The run's 32-hex id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a run (soft: it disappears from listings; `--all` still shows it)."""
    with open_client() as client:
        deleted = client.backend.delete_run(run_id)
    if as_json:
        print_json(run_to_dict(deleted))
    else:
        echo(f"Deleted run {deleted.run_id} ({deleted.name}).")
