"""``steward labels ingest``: attach ground truth that arrives after the predictions."""

from __future__ import annotations

from pathlib import Path

import typer

from steward.predictions import LabelReport, ingest_labels

from ._output import note, print_json, print_table
from ._session import load_settings

app = typer.Typer(name="labels", help="Delayed ground truth of logged predictions.", no_args_is_help=True)


def print_report(report: LabelReport) -> None:
    """The counts of one ingest, and a few unknown request ids."""
    print_table(
        ["", "rows"],
        [["in the file", str(report.rows)], ["attached", str(report.attached)], ["unknown request", str(report.unknown)],
         ["without a label", str(report.missing)]],
        title=f"Labels of {report.deployment}",
    )
    if report.unknown_examples:
        note(f"not in the log (not stored): {', '.join(report.unknown_examples)}{' ...' if report.unknown > len(report.unknown_examples) else ''}")


@app.command("ingest")
def ingest(
    file: Path = typer.Argument(..., help="CSV or Parquet file: the key column, the label column, optionally `row`."),  # noqa: B008 - typer idiom
    deployment: str = typer.Option(..., "--deployment", help="Whose predictions the labels belong to."),
    key: str = typer.Option("request_id", "--key", help="Column holding the request id."),
    label_column: str = typer.Option("label", "--label-column", help="Column holding the label."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Attach labels to logged predictions (audited). Re-ingesting is harmless: the latest
    label of a prediction wins; labels of unknown requests are counted, not stored."""
    report = ingest_labels(file, deployment=deployment, key=key, label_column=label_column, settings=load_settings())
    if as_json:
        print_json(report.to_dict())
        return
    print_report(report)
