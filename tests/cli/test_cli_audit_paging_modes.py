"""``steward audit list`` filters (actor, action, target, time), order and paging, embedded and
against a live server (``any_cli``); bad input; and a viewer refused on an auth-on server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_testing import Cli, cli_env_for, client_settings

from live_server import LiveServer
from steward import Client
from steward.wiring import build_services

Entry = dict[str, Any]  # Any: JSON values


def _seed(home: Path) -> None:
    """alice creates four experiments, bob two and one run in them (runs.* entries)."""
    for user, names in (("alice", ["a0", "a1", "a2", "a3"]), ("bob", ["b0", "b1"])):
        client = Client(client_settings(home, user=user))
        try:
            for name in names:
                client.create_experiment(f"exp-{name}")
            if user == "bob":
                with client.start_run("exp-b0", name="r"):
                    pass
        finally:
            client.close()


def _listing(cli: Cli, *args: str) -> tuple[list[Entry], str | None]:
    result = cli("audit", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"entries", "next_page_token"}
    return doc["entries"], doc["next_page_token"]


def _every_page(cli: Cli, *args: str) -> list[list[Entry]]:
    pages, token = [], None
    while True:
        entries, token = _listing(cli, *args, *(["--page-token", token] if token else []))
        pages.append(entries)
        if token is None:
            return pages


@pytest.fixture
def seeded_trail(any_cli: Cli, home: Path) -> list[Entry]:
    _seed(home)
    everything, token = _listing(any_cli, "--max-results", "10000")
    assert token is None and len(everything) == 8
    return everything


def test_actor_action_and_target_filters_pick_exactly_the_matching_entries(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    every = seeded_trail
    assert {e["actor"] for e in every} >= {"alice", "bob"}
    by_alice, _ = _listing(any_cli, "--actor", "alice")
    assert by_alice == [e for e in every if e["actor"] == "alice"] and len(by_alice) == 4
    runs, _ = _listing(any_cli, "--action", "runs.")
    assert runs == [e for e in every if e["action"].startswith("runs.")] and runs
    bobs_experiments, _ = _listing(any_cli, "--actor", "bob", "--action", "experiments.", "--target", "experiments:/")
    assert [e["actor"] for e in bobs_experiments] == ["bob", "bob"]
    assert all(e["action"] == "experiments.create" for e in bobs_experiments)
    # the filters are prefixes or exact values, never patterns: LIKE's wildcards match themselves
    for args in (["--action", "%"], ["--action", "_uns."], ["--target", "%"], ["--actor", "al%"], ["--actor", "x' OR '1'='1"]):
        assert _listing(any_cli, *args)[0] == [], args
    # actions are matched case-sensitively, on SQLite as on PostgreSQL
    assert _listing(any_cli, "--action", "RUNS.")[0] == []


def test_since_and_until_bound_the_listing_by_time(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    assert _listing(any_cli, "--since", "1h", "--until", "2999-01-01T00:00:00Z", "-n", "10000")[0] == seeded_trail
    assert _listing(any_cli, "--until", "2000-01-01")[0] == []
    assert _listing(any_cli, "--since", "2999-01-01")[0] == []
    # --since is inclusive, --until exclusive: the second the trail starts in splits it
    start = datetime.fromtimestamp(seeded_trail[0]["timestamp"] // 1000, tz=UTC).isoformat()
    assert _listing(any_cli, "--until", start)[0] == []
    assert _listing(any_cli, "--since", start, "-n", "10000")[0] == seeded_trail


def test_pages_follow_each_other_to_the_whole_listing_in_both_orders(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    every = seeded_trail
    pages = _every_page(any_cli, "--max-results", "3")
    assert all(len(p) == 3 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 3
    assert [e for p in pages for e in p] == every
    newest = _every_page(any_cli, "--order", "desc", "-n", "4")
    assert [e for p in newest for e in p] == every[::-1]
    alices = _every_page(any_cli, "--actor", "alice", "--order", "desc", "-n", "3")
    assert [len(p) for p in alices] == [3, 1]
    assert [e for p in alices for e in p] == [e for e in every[::-1] if e["actor"] == "alice"]


def test_a_table_page_ends_with_a_hint_naming_the_next_page_token(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    _, token = _listing(any_cli, "-n", "2")
    result = any_cli("audit", "list", "-n", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"] and len(lines) == 3
    assert f"More entries: add --page-token {token}" in result.stderr
    last = any_cli("audit", "list", "-n", "10000")
    assert last.exit_code == 0 and "--page-token" not in last.stderr


def test_all_follows_every_page_and_still_prints_one_document(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    every = seeded_trail
    entries, token = _listing(any_cli, "--all", "-n", "2")
    assert entries == every and token is None
    _, second = _listing(any_cli, "-n", "3")
    assert second is not None
    rest, _ = _listing(any_cli, "--all", "-n", "2", "--page-token", second)
    assert rest == every[3:]
    table = any_cli("audit", "list", "--all", "--order", "desc", "-n", "2")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[0] == "TIME" and sum(line.startswith("TIME") for line in lines) == 1
    assert len(lines) == 1 + len(every) and "--page-token" not in table.stderr
    assert _listing(any_cli, "--all", "--actor", "nobody")[0] == []
    assert "No audit entries match." in any_cli("audit", "list", "--all", "--actor", "nobody").stderr


def test_the_old_flags_still_work(any_cli: Cli, seeded_trail: list[Entry]) -> None:
    entries, token = _listing(any_cli, "-t", "experiments:/", "-n", "2", "--since", "7d")
    assert [e["target"] for e in entries] == [e["target"] for e in seeded_trail if e["target"].startswith("experiments:/")][:2]
    assert token is not None


BAD_INPUT = [  # (arguments, what the message must name)
    (["--page-token", "abc"], "--page-token"),
    (["--page-token", "-3"], "--page-token"),
    (["--page-token", str(2**63)], "--page-token"),
    (["--page-token", "0"], "--page-token"),
    (["--until", "yesterday"], "--until"),
    (["--since", "1969-12-31T00:00:00Z"], "--since"),
    (["--max-results", "0"], "--max-results"),
    (["--max-results", "10001"], "--max-results"),
    (["--order", "sideways"], "--order"),
    (["--actor", "a" * 251], "actor"),
    (["--action", "a" * 101], "action"),
]


def test_bad_input_is_a_usage_error_that_names_the_flag(any_cli: Cli) -> None:
    """Every case against one server (a server start per case cost more than the cases)."""
    for args, named in BAD_INPUT:
        for json_flag in ([], ["--json"]):
            result = any_cli("audit", "list", *args, *json_flag)
            assert result.exit_code == 2, (args, result.output)
            assert named in result.stderr and "Traceback" not in result.output, args
            assert result.stdout == "", args


# -- an auth-on server ---------------------------------------------------------------


@pytest.fixture
def audit_readers(home: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """``steward server`` with STEWARD_AUTH=on and tokens of an administrator, a reviewer and a viewer."""
    services = build_services(client_settings(home))
    try:
        tokens = {"root": services.governance("setup").bootstrap_admin("root", "root@example.com").secret}
        root = services.governance("root")
        for user, role in (("rita", "reviewer"), ("vic", "viewer")):
            root.create_user(user, f"{user}@example.com")
            root.grant_role(user, "*", role)
            tokens[user] = root.create_token(user).secret
    finally:
        services.close()
    server = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_AUTH": "on",
        }
    )
    yield server, tokens
    server.stop()


def test_a_viewer_may_not_list_the_audit_trail_and_the_refusal_is_itself_audited(
    audit_readers: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    server, tokens = audit_readers
    cli = Cli({**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": server.url})
    for args in (["--actor", "root"], ["--all", "--json"], ["--order", "desc", "--page-token", "1"]):
        denied = cli("audit", "list", *args, STEWARD_TOKEN=tokens["vic"])
        assert denied.exit_code == 4, denied.output
        assert "audit.read" in denied.stderr and "Traceback" not in denied.output
        assert denied.stdout == ""
    anonymous = cli("audit", "list", "--actor", "root")
    assert anonymous.exit_code == 4 and "authentication required" in anonymous.stderr
    # a reviewer reads it, filters and pages included
    read = cli("audit", "list", "--json", "--actor", "root", "-n", "1", STEWARD_TOKEN=tokens["rita"])
    assert read.exit_code == 0, read.output
    doc = json.loads(read.stdout)
    assert [e["actor"] for e in doc["entries"]] == ["root"] and doc["next_page_token"] is not None
    # the administrator finds the viewer's refusals with the new filters
    refusals = cli("audit", "list", "--json", "--action", "auth.denied", "--actor", "vic", STEWARD_TOKEN=tokens["root"])
    assert refusals.exit_code == 0, refusals.output
    found = json.loads(refusals.stdout)["entries"]
    assert found and all(e["actor"] == "vic" and e["action"] == "auth.denied" and e["target"] == "/api/v1/audit" for e in found)
