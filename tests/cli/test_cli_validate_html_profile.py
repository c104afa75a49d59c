"""``steward data validate --html`` draws each column from the data's profile, for a local
file and for a stored version, embedded and against a server."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from cli_testing import Cli


def test_the_validation_report_has_per_column_histograms_for_files_and_stored_versions(any_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pl.DataFrame({"amount": [float(i) for i in range(40)], "country": ["DE", "FR", "NL", "DE"] * 10}).write_parquet(path)
    assert any_cli("data", "infer", str(path), "--name", "orders").exit_code == 0
    html = tmp_path / "file.html"
    result = any_cli("data", "validate", str(path), "--suite", "orders", "--html", str(html))
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "Distributions of 2 columns" in text and "<svg" in text
    assert any_cli("data", "register", "orders", str(path)).exit_code == 0
    stored = tmp_path / "stored.html"
    result = any_cli("data", "validate", "orders:1", "--suite", "orders", "--html", str(stored))
    assert result.exit_code == 0, result.output
    assert "Distributions of 2 columns" in stored.read_text()
