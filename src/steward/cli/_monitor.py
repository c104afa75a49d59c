"""``steward monitor report``: drift between two Parquet files or dataset versions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from steward.errors import InvalidInputError

from ._data_versions import open_data
from ._output import echo, note, print_json, print_table

if TYPE_CHECKING:
    from steward.monitoring import DatasetScanner

app = typer.Typer(name="monitor", help="Monitoring: drift reports.", no_args_is_help=True)
HTML_OPTION = typer.Option(None, "--html", help="Also write a self-contained HTML report here.")
METHOD_OPTION = typer.Option([], "--method", help="COLUMN=METHOD (ks, wasserstein, psi, chi2, js); repeatable.")
EMBEDDING_OPTION = typer.Option(
    [], "--embedding", help="A list column to compare as an embedding (lists of floats are found by type); repeatable."
)


@contextmanager
def _scanner(reference: str, current: str) -> Iterator[DatasetScanner | None]:
    """The data service when a side is a dataset version ref rather than a file."""
    if Path(reference).exists() and Path(current).exists():
        yield None
        return
    with open_data() as data:
        yield data


def _methods(values: list[str]) -> dict[str, str]:
    methods: dict[str, str] = {}
    for value in values:
        column, sep, method = value.rpartition("=")
        if not sep or not column or not method:
            raise InvalidInputError(f"--method takes COLUMN=METHOD, got {value[:200]!r}", field="--method")
        methods[column] = method
    return methods


@app.command("report")
def report_cmd(
    reference: str = typer.Option(..., "--reference", help="Baseline: a Parquet file or a dataset version (name:3)."),
    current: str = typer.Option(..., "--current", help="Data to compare: a Parquet file or a dataset version."),
    html: Path | None = HTML_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
    sensitivity: str = typer.Option(
        "medium", "--sensitivity", help="low | medium | high: high lowers the effect-size thresholds."
    ),
    method: list[str] = METHOD_OPTION,
    correction: str = typer.Option("holm", "--correction", help="holm | bonferroni (for the number of columns)."),
    embedding: list[str] = EMBEDDING_OPTION,
    multivariate: bool = typer.Option(
        True, "--multivariate/--no-multivariate", help="Also train a domain classifier on a sample of the rows."
    ),
    dask: str | None = typer.Option(
        None, "--dask", help="Compute the summaries on a Dask cluster: a scheduler address, or 'local'."
    ),
) -> None:
    """Compare current data with a reference column by column (and the rows as a whole); exit 1 on drift."""
    from steward.monitoring import DaskSummariser, render_html, report

    summariser = None if dask is None else DaskSummariser(dask)
    try:
        with _scanner(reference, current) as data:
            result = report(
                reference, current, data=data, sensitivity=sensitivity, methods=_methods(method), correction=correction,
                embeddings=embedding, multivariate=multivariate, summarise_with=summariser,
            )
    finally:
        if summariser is not None:
            summariser.close()
    if html is not None:
        try:
            html.write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write the report to {str(html)[:300]!r}: {exc.strerror}", field="--html") from exc
    if as_json:
        print_json(result.to_dict())
    else:
        ordered = sorted(result.columns, key=lambda c: (not c.drifted, c.status != "ok", c.column))
        rows = [
            [
                c.column,
                c.kind,
                c.method or "",
                "" if c.statistic is None else f"{c.statistic:.4g}",
                "" if c.p_value is None else f"{c.p_value:.3g}",
                "" if c.effect_size is None else f"{c.effect_size:.4g}",
                "" if c.threshold is None else f"{c.threshold:g}",
                "DRIFT" if c.drifted else ("ok" if c.status == "ok" else c.status.replace("_", " ")),
            ]
            for c in ordered
        ]
        print_table(
            ["column", "kind", "method", "statistic", "p-value (adj.)", "effect", "threshold", "status"],
            rows,
            title=f"{result.current} vs {result.reference} (sensitivity {result.sensitivity})",
            marked=[c.drifted for c in ordered],
        )
        for c in ordered:
            if c.message:
                note(f"{c.column}: {c.message}")
        echo(f"{len(result.drifted)} of {result.compared} compared columns drifted (share {result.drift_share:.1%})")
        mv = result.multivariate
        if mv is not None and mv.status == "ok" and mv.roc_auc is not None:
            top = ", ".join(f"{c} {v:.3f}" for c, v in mv.top_features)
            echo(
                f"multivariate: domain classifier ROC-AUC {mv.roc_auc:.3f} (threshold {mv.threshold}): "
                f"{'DRIFT' if mv.drifted else 'ok'}" + (f"; top features: {top}" if top and mv.drifted else "")
            )
        elif mv is not None:
            note(f"multivariate: {mv.status.replace('_', ' ')}: {mv.message}")
        if html is not None:
            note(f"HTML report: {html}")
    if result.any_drift:
        raise typer.Exit(1)
