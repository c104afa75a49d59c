"""``steward data register|list|show|diff|lineage`` on an embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from steward import Client, Settings
from steward.cli import app


class Cli:
    def __init__(self, home: Path) -> None:
        self.env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
        self.env.update(
            {"STEWARD_HOME": str(home), "STEWARD_USER": "tester", "NO_COLOR": "1", "COLUMNS": "250",
             "TTY_COMPATIBLE": None, "FORCE_COLOR": None}
        )
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, ["data", *args], env=self.env)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    a = tmp_path / "a.parquet"
    pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": ["u", "v", "u", "u"]}).write_parquet(a)
    b = tmp_path / "b.csv"
    pl.DataFrame({"x": [10.0, 20.0, 30.0], "k": ["u", "w", "w"], "n": [1, 2, 3]}).write_csv(b)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(a.read_bytes()[:50])
    return {"a": a, "b": b, "bad": bad, "missing": tmp_path / "missing.csv"}


def test_register_then_list_and_show_as_text_and_json(cli: Cli, files: dict[str, Path]) -> None:
    first = cli("register", "tx", str(files["a"]))
    assert first.exit_code == 0, first.output
    assert "registered datasets:/tx/1" in first.stdout
    again = cli("register", "tx", str(files["a"]))
    assert "already registered as datasets:/tx/1" in again.stdout
    assert cli("register", "tx", str(files["b"])).exit_code == 0
    listing = cli("list", "--json")
    assert json.loads(listing.stdout)["datasets"][0] == {**json.loads(listing.stdout)["datasets"][0], "name": "tx", "latest_version": 2}
    versions = json.loads(cli("list", "tx", "--json").stdout)["versions"]
    assert [v["ref"] for v in versions] == ["datasets:/tx/1", "datasets:/tx/2"]
    shown = cli("show", "tx:1")
    assert "content hash" in shown.stdout and "u (75%)" in shown.stdout
    doc = json.loads(cli("show", versions[0]["short_hash"], "--json").stdout)
    assert doc["profile"]["columns"]["x"]["mean"] == 2.5


def test_diff_and_lineage_print_changes_and_runs(cli: Cli, files: dict[str, Path], tmp_path: Path) -> None:
    cli("register", "tx", str(files["a"]))
    cli("register", "tx", str(files["b"]))
    diff = cli("diff", "tx:1", "tx:2")
    assert diff.exit_code == 0, diff.output
    assert "+ column n (int64)" in diff.stdout and "rows: 4 -> 3 (-1)" in diff.stdout
    assert json.loads(cli("diff", "tx:1", "tx:2", "--json").stdout)["row_change"] == -1
    client = Client(Settings(home=tmp_path / "home", user="tester", capture_git=False, capture_packages=False))
    try:
        with client.start_run("e", name="fit", capture=False) as run:
            run.log_input("datasets:/tx/2", role="validation")
    finally:
        client.close()
    lineage = cli("lineage", "tx:2")
    assert run.run_id in lineage.stdout and "validation" in lineage.stdout
    assert json.loads(cli("lineage", "tx:2", "--json").stdout)["runs"][0]["role"] == "validation"
    assert "No run" in cli("lineage", "tx:1").stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["register", "tx", "{missing}"], 3, "no file or folder"),
        (["register", "tx", "{bad}"], 2, "truncated, corrupt"),
        (["register", "bad name", "{a}"], 2, "dataset name"),
        (["show", "tx:7"], 3, "not found"),
        (["show", "tx:x"], 2, "positive integer"),
    ],
)
def test_errors_are_one_line_with_the_error_trees_exit_code(
    cli: Cli, files: dict[str, Path], args: list[str], code: int, message: str
) -> None:
    result = cli(*[a.format(**{k: str(v) for k, v in files.items()}) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert json.loads(cli("list", "--json").stdout) == {"datasets": []}
