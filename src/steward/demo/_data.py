"""Demo chapter, data: register the training data, validate it, and show a failing check."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
from rich.console import Console
from rich.table import Table

from steward.data import DatasetVersion, ValidationResult
from steward.data._profile import profile
from steward.wiring import Services


def _print_result(console: Console, title: str, result: ValidationResult, *, only_failures: bool) -> None:
    if only_failures and result.passed and not result.failures:
        console.print(f"{title}: [green]all {len(result.checks)} checks passed[/green]")
        return
    table = Table(title=title)
    for column in ("status", "severity", "check", "column", "observed", "examples"):
        table.add_column(column, overflow="fold")
    for status, severity, check, column, observed, _expected, examples in result.table_rows():
        if only_failures and status == "ok":
            continue
        table.add_row(status, severity, check, column, observed, examples)
    console.print(table)
    summary = result.summary()
    verdict = "[green]PASSED[/green]" if result.passed else "[red]FAILED[/red]"
    console.print(f"{verdict} — {summary}")


def stage_data(console: Console, services: Services, train: Any, home: str) -> DatasetVersion:  # Any: pandas frame
    """Register ``train``, infer a suite from it, validate it and a damaged copy."""
    console.rule("[bold]Data[/bold]: versions and validation before training")
    data = services.data()
    validation = services.validation()
    version = data.register("breast-cancer-train", train, description="scikit-learn's breast cancer data, training split")
    console.print(f"Registered {version.ref} — hash {version.short_hash}, {version.num_rows} rows x {version.num_columns} columns")
    existing = [s.name for s in validation.list_suites("breast-cancer")]
    suite = validation.get_suite("breast-cancer") if existing else validation.infer(version.ref, "breast-cancer")
    result = validation.validate(version.ref, suite)
    console.print(f"Suite {suite.ref or suite.name}: {len(result.checks)} checks inferred from the data (steward data suites show breast-cancer)")
    _print_result(console, f"Validation of {version.ref}", result, only_failures=True)

    # a deliberately damaged copy: missing values, an impossible radius and duplicated rows
    damaged = train.copy()
    damaged.loc[damaged.index[:40], "mean texture"] = None
    damaged.loc[damaged.index[0], "mean radius"] = -5.0
    damaged = pd.concat([damaged, damaged.iloc[:30]])
    bad = validation.validate(damaged, suite, record=False)
    _print_result(console, "Validation of a damaged copy (not registered)", bad, only_failures=True)
    report = f"{home}/reports/damaged-validation.html"
    import os

    os.makedirs(os.path.dirname(report), exist_ok=True)
    with open(report, "w", encoding="utf-8") as f:
        # the damaged copy's profile: per-column histograms with the suite's expected ranges
        f.write(bad.to_html(profile(pl.from_pandas(damaged))))
    console.print(f"HTML report of the damaged copy: {report}")
    return version
