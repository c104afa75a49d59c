"""``steward monitor report``: exit codes, the JSON document, the HTML file, dataset versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from steward import Settings
from steward.cli import app


class Cli:
    def __init__(self, home: Path) -> None:
        self.env: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
        self.env.update({"STEWARD_HOME": str(home), "STEWARD_USER": "tester", "NO_COLOR": "1", "COLUMNS": "250"})
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), env=self.env)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(4)
    n = 5_000
    ref = pa.table({"x": rng.normal(0, 1, n), "k": rng.choice(["a", "b", "c"], n)})
    cur = pa.table({"x": rng.normal(1, 1, n), "k": rng.choice(["a", "b", "c"], n)})
    paths = {"ref": tmp_path / "ref.parquet", "cur": tmp_path / "cur.parquet"}
    pq.write_table(ref, paths["ref"])
    pq.write_table(cur, paths["cur"])
    return paths


def test_json_lists_every_column_with_method_statistic_p_value_effect_threshold_and_flag(cli: Cli, files: dict[str, Path]) -> None:
    done = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(files["cur"]), "--json")
    assert done.exit_code == 1, done.output
    document = json.loads(done.stdout)
    assert document["drifted"] == ["x"] and document["drift_share"] == 0.5
    columns = {c["column"]: c for c in document["columns"]}
    for key in ("method", "statistic", "p_value", "effect_size", "threshold", "drifted"):
        assert key in columns["x"] and key in columns["k"]
    assert columns["x"]["method"] == "wasserstein" and columns["x"]["drifted"] is True
    assert columns["k"]["drifted"] is False and columns["k"]["missing"]["drifted"] is False


def test_no_drift_exits_0_with_a_table(cli: Cli, files: dict[str, Path]) -> None:
    done = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(files["ref"]))
    assert done.exit_code == 0, done.output
    assert "0 of 2 compared columns drifted" in done.stdout and "wasserstein" in done.stdout


def test_the_html_report_is_self_contained_with_failures_first(cli: Cli, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(files["cur"]), "--html", str(out))
    assert done.exit_code == 1
    html = out.read_text()
    assert "<svg" in html and "DRIFT" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.index("<td>x</td>") < html.index("<td>k</td>")


def test_bad_input_is_one_line_with_the_right_exit_code(cli: Cli, files: dict[str, Path], tmp_path: Path) -> None:
    missing = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(tmp_path / "nope.parquet"))
    assert missing.exit_code == 3 and "no such file" in missing.output and "Traceback" not in missing.output
    bad = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(files["cur"]), "--sensitivity", "max")
    assert bad.exit_code == 2 and "unknown sensitivity" in bad.output
    method = cli("monitor", "report", "--reference", str(files["ref"]), "--current", str(files["cur"]), "--method", "k")
    assert method.exit_code == 2 and "COLUMN=METHOD" in method.output


def test_dataset_versions_can_be_compared_by_ref(cli: Cli, files: dict[str, Path]) -> None:
    assert cli("data", "register", "tx", str(files["ref"])).exit_code == 0
    assert cli("data", "register", "tx", str(files["cur"])).exit_code == 0
    done = cli("monitor", "report", "--reference", "tx:1", "--current", "tx:2", "--json")
    assert done.exit_code == 1, done.output
    document = json.loads(done.stdout)
    assert document["reference"] == "tx:1" and document["drifted"] == ["x"]
