"""``steward runs list|show|compare|delete`` on an embedded store."""

from __future__ import annotations

import json

from cli_testing import Cli, Seeded


def test_runs_list_prints_every_run_as_plain_rows_when_piped(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["RUN", "ID", "EXPERIMENT"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {seeded.gbm, seeded.lr, seeded.failed}
    assert "finished" in rows[seeded.gbm] and "auc=0.91" in rows[seeded.gbm]
    assert "failed" in rows[seeded.failed]
    assert "churn" in rows[seeded.lr]


def test_runs_list_draws_a_rich_table_in_a_terminal(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", TTY_COMPATIBLE="1")
    assert result.exit_code == 0
    assert "│" in result.stdout
    assert seeded.gbm in result.stdout


def test_runs_list_json_is_one_document_with_the_page_token(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert {r["run_id"] for r in doc["runs"]} == {seeded.gbm, seeded.lr, seeded.failed}
    assert doc["next_page_token"] is None
    gbm = next(r for r in doc["runs"] if r["run_id"] == seeded.gbm)
    assert gbm["params"] == {"model": "gbm", "C": "1"}
    assert gbm["metrics"]["auc"]["value"] == 0.91


def test_runs_list_filters_and_orders_with_the_filter_language(cli: Cli, seeded: Seeded) -> None:
    result = cli(
        "runs", "list", "--experiment", "churn", "--filter", "metrics.auc > 0.8", "--order-by", "metrics.auc DESC", "--json"
    )
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in json.loads(result.stdout)["runs"]] == [seeded.gbm, seeded.lr]
    only_lr = cli("runs", "list", "-f", "params.model = 'lr'", "--json")
    assert [r["run_id"] for r in json.loads(only_lr.stdout)["runs"]] == [seeded.lr]


def test_runs_list_pages_with_a_token_announced_on_stderr(cli: Cli, seeded: Seeded) -> None:
    first = cli("runs", "list", "--max-results", "2", "--order-by", "start_time ASC")
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 3  # header + 2 rows
    assert "--page-token" in first.stderr
    token = first.stderr.split("--page-token", 1)[1].strip()
    second = cli("runs", "list", "--max-results", "2", "--order-by", "start_time ASC", "--page-token", token, "--json")
    doc = json.loads(second.stdout)
    assert len(doc["runs"]) == 1
    assert doc["next_page_token"] is None


def test_a_filter_matching_nothing_prints_a_note_on_stderr_only(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", "--filter", "metrics.auc > 5")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No runs match" in result.stderr
    assert json.loads(cli("runs", "list", "--filter", "metrics.auc > 5", "--json").stdout)["runs"] == []


def test_a_filter_syntax_error_exits_2_and_names_the_position(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", "--filter", "metrics.auc >> 0.9")
    assert result.exit_code == 2
    assert "position 13" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_a_bad_order_by_exits_2(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", "--order-by", "metrics.auc SIDEWAYS")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_runs_list_of_an_unknown_experiment_exits_3(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "list", "--experiment", "no-such-experiment")
    assert result.exit_code == 3
    assert "no-such-experiment" in result.stderr


def test_max_results_out_of_range_is_a_usage_error(cli: Cli) -> None:
    assert cli("runs", "list", "--max-results", "0").exit_code == 2
    assert cli("runs", "list", "--max-results", "lots").exit_code == 2


def test_runs_show_prints_info_params_metrics_tags_and_artifacts(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "show", seeded.gbm)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for section in ("Run", "Params", "Metrics", "Tags", "Artifacts"):
        assert section in out.splitlines()
    assert "gbm-run" in out
    assert "churn (id 1)" in out
    metric_line = next(line for line in out.splitlines() if line.startswith("auc "))
    assert metric_line.split()[:3] == ["auc", "0.91", "2"]  # the latest point: value and step
    assert any(line.split() == ["team", "fraud"] for line in out.splitlines())
    assert "report.txt" in out
    assert "Failure" not in out


def test_runs_show_of_a_failed_run_includes_its_traceback(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "show", seeded.failed)
    assert result.exit_code == 0
    assert "failed" in result.stdout
    assert "Failure" in result.stdout
    assert "ValueError: boom" in result.stdout


def test_runs_show_json_holds_the_run_its_artifacts_and_failure(cli: Cli, seeded: Seeded) -> None:
    doc = json.loads(cli("runs", "show", seeded.failed, "--json").stdout)
    assert doc["run_id"] == seeded.failed
    assert doc["status"] == "failed"
    assert doc["experiment_name"] == "churn"
    assert "ValueError: boom" in doc["failure"]
    ok = json.loads(cli("runs", "show", seeded.gbm, "--json").stdout)
    assert ok["failure"] is None
    assert [a["path"] for a in ok["artifacts"]] == ["report.txt"]
    assert len(ok["artifacts"][0]["digest"]) == 64


def test_runs_show_in_a_terminal_renders_tables(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "show", seeded.gbm, TTY_COMPATIBLE="1")
    assert result.exit_code == 0
    assert "│" in result.stdout
    assert "gbm-run" in result.stdout


def test_runs_show_of_an_unknown_run_exits_3(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "show", "f" * 32)
    assert result.exit_code == 3
    assert "not found" in result.stderr
    assert "Traceback" not in result.output


def test_runs_compare_marks_differing_params(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "compare", seeded.gbm, seeded.lr)
    assert result.exit_code == 0, result.output
    lines = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["params.model"].startswith("*")
    assert lines["params.model"].split()[2:] == ["gbm", "lr"]
    assert not lines["params.C"].startswith("*")
    assert lines["metrics.auc"].split()[1:] == ["0.91", "0.85"]
    assert lines["metrics.loss"].split()[1:] == ["0.25", "-"]


def test_runs_compare_json_lists_params_metrics_and_differences(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "compare", seeded.gbm, seeded.lr, seeded.failed, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [r["run_id"] for r in doc["runs"]] == [seeded.gbm, seeded.lr, seeded.failed]
    assert doc["params"]["model"] == {seeded.gbm: "gbm", seeded.lr: "lr", seeded.failed: "svm"}
    assert doc["params"]["C"][seeded.failed] is None
    assert sorted(doc["differing_params"]) == ["C", "model"]
    assert doc["metrics"]["auc"] == {seeded.gbm: 0.91, seeded.lr: 0.85, seeded.failed: None}


def test_runs_compare_highlights_differences_in_a_terminal(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "compare", seeded.gbm, seeded.lr, TTY_COMPATIBLE="1", NO_COLOR=None, FORCE_COLOR="1")
    assert result.exit_code == 0
    assert "\x1b[1;33m" in result.stdout  # bold yellow: the differing "model" row


def test_runs_compare_needs_two_different_runs(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "compare", seeded.gbm, seeded.gbm)
    assert result.exit_code == 2
    assert "two" in result.output


def test_runs_compare_with_an_unknown_run_exits_3(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "compare", seeded.gbm, "e" * 32)
    assert result.exit_code == 3


def test_a_deleted_run_leaves_the_listing_but_remains_with_all(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "delete", seeded.lr)
    assert result.exit_code == 0
    assert seeded.lr in result.stdout
    listed = {r["run_id"] for r in json.loads(cli("runs", "list", "--json").stdout)["runs"]}
    assert listed == {seeded.gbm, seeded.failed}
    everything = {r["run_id"] for r in json.loads(cli("runs", "list", "--all", "--json").stdout)["runs"]}
    assert seeded.lr in everything


def test_deleting_an_unknown_run_exits_3(cli: Cli, seeded: Seeded) -> None:
    result = cli("runs", "delete", "d" * 32)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
