"""``steward reproduce RUN_ID``: re-run a run at its recorded commit, with its data, params and
seed, and say whether its metrics match; exit 0 when they do, 1 when anything differs."""

from __future__ import annotations

from pathlib import Path

import typer

from steward.errors import CheckFailedError

from ._output import echo, print_json, print_table
from ._session import open_client


def reproduce(
    run_id: str = typer.Argument(..., help="The run to reproduce."),
    tolerance: float = typer.Option(1e-6, "--tolerance", help="Relative tolerance of each metric."),
    repo: Path | None = typer.Option(None, "--repo", help="The git repository holding the run's commit (default: this folder's)."),  # noqa: B008
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds the command may take."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
    latest_data: bool = typer.Option(
        False, "--latest-data", help="Let a bare dataset name read its latest version instead of the recorded one (a changed one is named).",
    ),
) -> None:
    """Re-run a run at its recorded commit, data, params and seed; say whether its metrics match. Exit 1 when not.

    The run's command runs at its git commit in a temporary worktree (its diff applied when
    the run was dirty); metrics, params, seed, datasets and packages are compared. A dataset
    the script reads by bare name reads the version the run recorded (not a newer one, unless
    --latest-data), and start_run/seed_everything use the recorded seed. The run is read from
    the server when STEWARD_TRACKING_URI is set; the command runs here.
    """
    from steward.pipelines import reproduce_run

    with open_client() as client:
        report = reproduce_run(client, run_id, tolerance=tolerance, repo=repo, timeout=timeout, latest_data=latest_data)
    if as_json:
        print_json(report.to_dict())
    else:
        echo(f"run {report.run_id} at {report.commit[:12]}" + (" (dirty: its diff applied)" if report.diff_applied else ""))
        echo(f"re-run: {report.reproduced_run_id or 'none'} ({' '.join(report.command)[:200]})")
        rows = [
            [m.key, "" if m.recorded is None else f"{m.recorded:.6g}", "" if m.reproduced is None else f"{m.reproduced:.6g}",
             "ok" if m.matches else "DIFFERS"]
            for m in report.metrics
        ]
        if rows:
            print_table(["METRIC", "RECORDED", "RE-RUN", "MATCH"], rows)
        for d in report.datasets:
            if d.changed:
                echo(f"dataset {d.name} changed: recorded {d.recorded} ({d.recorded_hash[:12]}), "
                     f"re-run used {d.reproduced or 'none'} ({(d.reproduced_hash or '')[:12]})")
            else:
                newer = f"; the latest is {d.latest}" if d.latest else ""
                how = "pinned" if d.recorded in report.pinned else "as named by the script"
                echo(f"dataset {d.name}: re-run used the recorded version {d.recorded} ({how}{newer})")
        for line in (*report.params, *(f"seed: {s}" for s in report.seed), *report.problems):
            echo(line)
        if report.packages:
            echo(f"{len(report.packages)} packages differ from the recorded environment:")
            for line in report.packages[:20]:
                echo(f"  {line}")
        echo("reproduced: metrics match" if report.matches else "NOT reproduced")
    if not report.matches:
        raise CheckFailedError(f"run {run_id} did not reproduce") if not as_json else typer.Exit(1)
