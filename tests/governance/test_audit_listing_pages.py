"""Listing the audit trail with filters, a page at a time (``AuditChainService.list_entries``,
behind ``GET /api/v1/audit`` and the UI's audit page), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from steward.adapters.sql._audit import SqlAuditStore
from steward.errors import InvalidInputError
from steward.tracking import AuditEvent
from steward.wiring import Services


def _fill(services: Services, n: int) -> None:
    store = SqlAuditStore(services.store)
    for i in range(1, n + 1):
        action = "models.approve" if i % 3 == 0 else "runs.create"
        store.record(AuditEvent(f"user{i % 2}", action, f"things:/{i % 5}/x", 1_000 * i, {"i": i}))


def test_pages_walk_the_whole_trail_in_both_orders_without_gaps_or_repeats(services: Services) -> None:
    _fill(services, 23)
    audit = services.audit()
    seen: list[int] = []
    cursor = None
    while True:
        page = audit.list_entries(newest_first=True, cursor=cursor, max_results=5)
        seen += [e.entry_id for e in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(range(23, 0, -1))
    forward = audit.list_entries(max_results=10)
    assert [e.entry_id for e in forward.entries] == list(range(1, 11)) and forward.next_cursor == 10
    rest = audit.list_entries(cursor=20, max_results=10)
    assert [e.entry_id for e in rest.entries] == [21, 22, 23] and rest.next_cursor is None
    # exactly a page left: no cursor to an empty page
    assert audit.list_entries(cursor=18, max_results=5).next_cursor is None


def test_filters_combine_and_reach_past_the_first_thousand_entries(services: Services) -> None:
    _fill(services, 1_205)
    audit = services.audit()
    page = audit.list_entries(actor="user1", action="models.", newest_first=True, max_results=3)
    assert [e.entry_id for e in page.entries] == [1203, 1197, 1191]
    assert all(e.actor == "user1" and e.action == "models.approve" for e in page.entries)
    assert [e.entry_id for e in audit.list_entries(target="things:/4/", since=1_100_000, until=1_120_000).entries] == [1104, 1109, 1114, 1119]
    assert audit.list_entries(target="things:/9").entries == []
    assert audit.head() is not None and audit.head()[0] == 1_205  # type: ignore[index]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_results": 0}, {"max_results": 10_001}, {"since": -1}, {"cursor": -5}, {"until": 2**64}, {"actor": "x" * 251}, {"max_results": True}],
)
def test_a_bad_page_size_time_cursor_or_filter_is_refused(services: Services, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        services.audit().list_entries(**kwargs)


def test_the_rest_listing_pages_with_a_token_and_filters(services: Services, asgi_client: Callable[[Any], httpx.Client]) -> None:
    from steward.server import create_app

    _fill(services, 12)
    client = asgi_client(create_app(services.settings, services))
    first = client.get("/api/v1/audit", params={"order": "desc", "max_results": 5, "action": "runs."}).json()
    assert [e["entry_id"] for e in first["entries"]] == [11, 10, 8, 7, 5]
    second = client.get("/api/v1/audit", params={"order": "desc", "max_results": 5, "action": "runs.", "page_token": first["next_page_token"]}).json()
    assert [e["entry_id"] for e in second["entries"]] == [4, 2, 1] and second["next_page_token"] is None
    # the default stays the chain's order, every entry
    assert [e["entry_id"] for e in client.get("/api/v1/audit").json()["entries"]] == list(range(1, 13))
    bad = client.get("/api/v1/audit", params={"page_token": "../x"})
    assert bad.status_code == InvalidInputError.status and bad.json()["error"]["field"] == "page_token"
    huge = client.get("/api/v1/audit", params={"page_token": "9" * 30, "since": str(2**70)})
    assert huge.status_code == InvalidInputError.status
