"""``steward data ...`` embedded and against a live server (the ``any_cli`` fixture): every
verb gives the same answers either way, and files on this machine reach the server."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from cli_testing import Cli, client_settings

from steward import Client


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    a = tmp_path / "a.parquet"
    pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": ["u", "v", "u", "u"]}).write_parquet(a)
    b = tmp_path / "b.csv"
    pl.DataFrame({"x": [10.0, 20.0, 30.0], "k": ["u", "w", "w"], "n": [1, 2, 3]}).write_csv(b)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(a.read_bytes()[:50])
    folder = tmp_path / "parts"
    folder.mkdir()
    pl.DataFrame({"x": [1.0], "k": ["u"]}).write_parquet(folder / "p1.parquet")
    pl.DataFrame({"x": [2.0], "k": ["v"]}).write_parquet(folder / "p2.parquet")
    return {"a": a, "b": b, "bad": bad, "missing": tmp_path / "missing.csv", "folder": folder}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.parquet"
    pl.DataFrame(
        {"id": range(1, 9), "amount": [1.0, 2.5, None, 4.0, 3.0, 2.0, 1.5, 4.0], "country": ["DE", "FR", "DE", "NL"] * 2}
    ).write_parquet(path)
    return path


def test_register_list_and_show_work_the_same_embedded_and_remote(any_cli: Cli, files: dict[str, Path]) -> None:
    first = any_cli("data", "register", "tx", str(files["a"]))
    assert first.exit_code == 0, first.output
    assert "registered datasets:/tx/1" in first.stdout
    again = any_cli("data", "register", "tx", str(files["a"]))
    assert "already registered as datasets:/tx/1" in again.stdout, again.output
    assert any_cli("data", "register", "tx", str(files["b"])).exit_code == 0
    listing = json.loads(any_cli("data", "list", "--json").stdout)["datasets"]
    assert [(d["name"], d["latest_version"]) for d in listing] == [("tx", 2)]
    versions = json.loads(any_cli("data", "list", "tx", "--json").stdout)["versions"]
    assert [v["ref"] for v in versions] == ["datasets:/tx/1", "datasets:/tx/2"]
    # the client's file name is the version's source, as embedded
    assert versions[0]["source"] == str(files["a"]) and versions[1]["source"] == str(files["b"])
    shown = any_cli("data", "show", "tx:1")
    assert "content hash" in shown.stdout and "u (75%)" in shown.stdout
    doc = json.loads(any_cli("data", "show", versions[0]["short_hash"], "--json").stdout)
    assert doc["profile"]["columns"]["x"]["mean"] == 2.5
    by_name_hash = json.loads(any_cli("data", "show", f"tx@{versions[1]['short_hash']}", "--json").stdout)
    assert by_name_hash["version"] == 2


def test_a_folder_registers_as_one_version_in_both_modes(any_cli: Cli, files: dict[str, Path]) -> None:
    result = any_cli("data", "register", "parts", str(files["folder"]), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["num_rows"] == 2


def test_diff_and_lineage_print_changes_and_runs(any_cli: Cli, files: dict[str, Path], home: Path) -> None:
    any_cli("data", "register", "tx", str(files["a"]))
    any_cli("data", "register", "tx", str(files["b"]))
    any_cli("data", "register", "other", str(files["a"]))
    diff = any_cli("data", "diff", "tx:1", "tx:2")
    assert diff.exit_code == 0, diff.output
    assert "+ column n (int64)" in diff.stdout and "rows: 4 -> 3 (-1)" in diff.stdout
    assert json.loads(any_cli("data", "diff", "tx:1", "tx:2", "--json").stdout)["row_change"] == -1
    across = json.loads(any_cli("data", "diff", "tx:1", "other:1", "--json").stdout)
    assert across["same_content"] is True
    client = Client(client_settings(home))
    try:
        with client.start_run("e", name="fit", capture=False) as run:
            run.log_input("datasets:/tx/2", role="validation")
    finally:
        client.close()
    lineage = any_cli("data", "lineage", "tx:2")
    assert run.run_id in lineage.stdout and "validation" in lineage.stdout
    assert json.loads(any_cli("data", "lineage", "tx:2", "--json").stdout)["runs"][0]["role"] == "validation"
    assert "No run" in any_cli("data", "lineage", "tx:1").stderr


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
    any_cli: Cli, files: dict[str, Path], args: list[str], code: int, message: str
) -> None:
    result = any_cli("data", *[a.format(**{k: str(v) for k, v in files.items()}) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
    assert json.loads(any_cli("data", "list", "--json").stdout) == {"datasets": []}


def test_reference_only_against_a_server_is_refused_with_the_reason(any_cli: Cli, files: dict[str, Path]) -> None:
    result = any_cli("data", "register", "tx", str(files["a"]), "--reference-only")
    if not any_cli.remote:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2 and "--reference-only" in result.stderr and "upload" in result.stderr


def test_infer_validate_and_suites_work_on_local_files_and_stored_versions(any_cli: Cli, good: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite.yaml"
    result = any_cli("data", "infer", str(good), "--name", "orders", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "suites:/orders/1" in result.output and out.read_text().startswith("name: orders")
    listed = any_cli("data", "suites", "list", "--json")
    assert [s["ref"] for s in json.loads(listed.stdout)] == ["suites:/orders/1"]
    shown = any_cli("data", "suites", "show", "orders")
    assert shown.exit_code == 0 and "allowed: [DE, FR, NL]" in shown.stdout
    html, res = tmp_path / "r.html", tmp_path / "r.json"
    ok = any_cli("data", "validate", str(good), "--suite", "orders", "--html", str(html), "--out", str(res))
    assert ok.exit_code == 0, ok.output
    assert html.read_text().startswith("<!DOCTYPE html>") and json.loads(res.read_text())["passed"] is True
    # a stored version with a stored suite: validated where the data is, the result recorded
    assert any_cli("data", "register", "orders", str(good)).exit_code == 0
    stored = any_cli("data", "validate", "orders:1", "--suite", "orders", "--json")
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout)["dataset"] == "orders:1"
    # inferring from a stored version reads its data (downloaded from a server)
    inferred = any_cli("data", "infer", "orders:1", "--name", "orders2", "--json")
    assert inferred.exit_code == 0, inferred.output
    assert json.loads(inferred.stdout)["ref"] == "suites:/orders2/1"
    # a suite file and a stored version
    assert any_cli("data", "validate", "orders:1", "--suite", str(out)).exit_code == 0


def test_validate_exits_1_on_failures_and_unknown_suites_exit_3(any_cli: Cli, good: Path, tmp_path: Path) -> None:
    any_cli("data", "infer", str(good), "--name", "orders")
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("id,amount,country\n1,1.0,DE\n2,-7.0,XX\n2,abc,FR\n")
    failed = any_cli("data", "validate", str(damaged), "--suite", "orders")
    assert failed.exit_code == 1 and "FAILED" in failed.stdout
    unknown = any_cli("data", "validate", str(good), "--suite", "nope")
    assert unknown.exit_code == 3, unknown.output


def test_skew_compares_a_stored_reference_with_a_local_file(any_cli: Cli, tmp_path: Path) -> None:
    ref, same, shifted = (tmp_path / f"{n}.parquet" for n in ("ref", "same", "shifted"))
    frame = pl.DataFrame({"x": [float(i % 100) for i in range(2000)], "c": ["a", "b"] * 1000})
    frame.write_parquet(ref)
    frame.write_parquet(same)
    frame.with_columns(pl.col("x") + 50).write_parquet(shifted)
    assert any_cli("data", "register", "train", str(ref)).exit_code == 0
    assert any_cli("data", "skew", "--reference", "train:1", "--current", str(same)).exit_code == 0
    result = any_cli("data", "skew", "--reference", "train:1", "--current", str(shifted), "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["drifted"] == ["x"]
