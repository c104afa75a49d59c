"""``steward audit list``."""

from __future__ import annotations

import json

from cli_testing import Cli, Seeded


def test_audit_list_shows_who_did_what_as_plain_rows(cli: Cli, seeded: Seeded) -> None:
    result = cli("audit", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"]
    first = lines[1].split()
    assert first[0].endswith("Z") and first[1:4] == ["tester", "experiments.create", "experiments:/1"]
    assert any(f"runs:/{seeded.gbm}" in line and "runs.create" in line for line in lines)


def test_audit_list_filters_by_target_prefix(cli: Cli, seeded: Seeded) -> None:
    doc = json.loads(cli("audit", "list", "--target", f"runs:/{seeded.lr}", "--json").stdout)
    assert doc["entries"]
    assert all(e["target"].startswith(f"runs:/{seeded.lr}") for e in doc["entries"])
    assert {"runs.create", "runs.end"} <= {e["action"] for e in doc["entries"]}


def test_audit_list_since_accepts_durations_and_iso_times(cli: Cli, seeded: Seeded) -> None:
    recent = json.loads(cli("audit", "list", "--since", "1h", "--json").stdout)["entries"]
    assert len(recent) > 3
    future = cli("audit", "list", "--since", "2999-01-01T00:00:00Z", "--json")
    assert json.loads(future.stdout) == {"entries": [], "next_page_token": None}
    empty_table = cli("audit", "list", "--since", "2999-01-01")
    assert empty_table.stdout == ""
    assert "No audit entries" in empty_table.stderr


def test_a_bad_since_is_a_usage_error_that_says_what_is_accepted(cli: Cli) -> None:
    result = cli("audit", "list", "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "7d" in result.stderr
    assert "Traceback" not in result.output
