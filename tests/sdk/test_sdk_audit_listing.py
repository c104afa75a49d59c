"""``Client.audit.list_entries`` and ``list``: the same filters, order and pages embedded and
through ``steward server`` (``GET /api/v1/audit``), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from live_server import LiveServer
from steward.core import AuditEntry
from steward.errors import InvalidInputError
from steward.sdk import Client
from steward.settings import Settings


@pytest.fixture
def both(settings: Settings, live_server: LiveServer) -> Iterator[dict[str, Client]]:
    """An embedded client and one through the server, on the same store, after alice and bob
    made experiments (bob also a run)."""
    for user, names in (("alice", ["a0", "a1", "a2"]), ("bob", ["b0", "b1"])):
        seeding = Client(settings.model_copy(update={"user": user}))
        try:
            for name in names:
                seeding.create_experiment(f"exp-{name}")
            if user == "bob":
                with seeding.start_run("exp-b0", name="r"):
                    pass
        finally:
            seeding.close()
    clients = {
        "embedded": Client(settings),
        "remote": Client(settings.model_copy(update={"tracking_uri": live_server.url})),
    }
    yield clients
    for client in clients.values():
        client.close()


def _walk(client: Client, **filters: Any) -> list[AuditEntry]:  # Any: list_entries' keyword values
    found: list[AuditEntry] = []
    cursor = None
    while True:
        page = client.audit.list_entries(cursor=cursor, **filters)
        assert len(page.entries) <= filters.get("max_results", 100)
        found += page.entries
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_both_modes_answer_every_filter_and_page_alike(both: dict[str, Client]) -> None:
    every = both["embedded"].audit.list_entries(max_results=10_000).entries
    assert len(every) == 7 and [e.entry_id for e in every] == sorted(e.entry_id for e in every)
    cases: list[dict[str, Any]] = [  # Any: keyword values
        {},
        {"actor": "alice"},
        {"action": "runs."},
        {"actor": "bob", "action": "experiments.", "target": "experiments:/"},
        {"newest_first": True},
        {"actor": "alice", "newest_first": True},
        {"since": every[2].timestamp, "until": every[-1].timestamp + 1},
    ]
    for filters in cases:
        wanted = [
            e for e in every
            if e.actor == filters.get("actor", e.actor)
            and e.action.startswith(filters.get("action", ""))
            and e.target.startswith(filters.get("target", ""))
            and filters.get("since", 0) <= e.timestamp < filters.get("until", 2**62)
        ]
        if filters.get("newest_first"):
            wanted.reverse()
        for mode, client in both.items():
            assert _walk(client, max_results=2, **filters) == wanted, (mode, filters)
            assert client.audit.list(**filters) == wanted, (mode, filters)


def test_the_old_list_signature_still_answers_one_page(both: dict[str, Client]) -> None:
    for client in both.values():
        first = client.audit.list(target="experiments:/", since=0, max_results=2)
        assert [e.action for e in first] == ["experiments.create", "experiments.create"]


def test_filters_are_literal_prefixes_and_case_sensitive_on_every_store(both: dict[str, Client]) -> None:
    for mode, client in both.items():
        # "_" and "%" are LIKE wildcards: here they match only themselves
        assert client.audit.list(target="experiments:/_") == [] and client.audit.list(target="%") == [], mode
        assert client.audit.list(action="%") == [] and client.audit.list(action="run_.") == [], mode
        assert client.audit.list(action="RUNS.") == [] and client.audit.list(actor="ALICE") == [], mode


BAD_INPUT: list[dict[str, Any]] = [
    {"max_results": 0}, {"max_results": 10_001}, {"since": -1}, {"cursor": -5}, {"until": 2**63}, {"actor": "x" * 251},
]


def test_bad_input_is_refused_alike_in_both_modes(both: dict[str, Client]) -> None:
    for kwargs in BAD_INPUT:  # every case against one server: a start per case cost more than the cases
        for client in both.values():
            with pytest.raises(InvalidInputError):
                client.audit.list_entries(**kwargs)
