"""Tamper evidence of the audit trail: edits, deletions and reorderings done directly in
SQL (SQLite and PostgreSQL) are caught, naming the first bad entry; concurrent appends
from threads and processes keep one linear chain."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from steward.adapters.sql import SqlStore
from steward.adapters.sql._audit import SqlAuditStore, append_audit
from steward.core.audit_chain import GENESIS_HASH, entry_hash
from steward.governance import AuditChainService, ChainReport, generate_master_key, verify_chain
from steward.tracking import AuditEvent, TrackingService, now_ms
from steward.wiring import Services


def _event(i: int) -> AuditEvent:
    return AuditEvent(f"user{i % 3}", "tests.append", f"things:/{i}", now_ms(), {"i": i, "note": "déjà vu", "nested": {"b": [1, 2.5]}})


def _fill(services: Services, tracking: TrackingService, n: int = 6) -> None:
    """Entries 1-2 from real tracking mutations, the rest appended directly: ``n`` in all."""
    exp = tracking.create_experiment("tamper")
    tracking.create_run(exp.experiment_id, name="r")
    store = SqlAuditStore(services.store)
    for i in range(3, n + 1):
        store.record(_event(i))


def _verify(services: Services, **kwargs: object) -> ChainReport:
    return services.audit().verify(**kwargs)  # type: ignore[arg-type]


def _sql(services: Services, statement: str, **params: object) -> None:
    with services.store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_untouched_chain_verifies_and_links_every_entry_to_the_one_before(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    report = _verify(services)
    assert report.intact and report.checked == 6 and report.head_id == 6
    entries = list(SqlAuditStore(services.store).iter_entries())
    assert [e.entry_id for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert report.head_hash == entries[-1].hash


@pytest.mark.parametrize(
    "column, value",
    [("actor", "mallory"), ("action", "runs.read"), ("target", "runs:/other"), ("timestamp", 1)],
)
def test_editing_any_column_of_an_entry_names_that_entry(services: Services, tracking: TrackingService, column: str, value: object) -> None:
    _fill(services, tracking)
    _sql(services, f"UPDATE audit_log SET {column} = :v WHERE entry_id = 4", v=value)
    report = _verify(services)
    assert not report.intact and report.first_break is not None
    assert report.first_break.entry_id == 4
    assert "edited" in report.first_break.reason
    assert report.head_id == 3  # the last entry still to be trusted


def test_editing_the_details_json_is_caught(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    _sql(services, "UPDATE audit_log SET details = :d WHERE entry_id = 5", d='{"i": 5, "note": "nothing to see"}')
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 5


def test_rewriting_an_entrys_hash_to_match_its_edit_breaks_the_next_link(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    row = next(e for e in SqlAuditStore(services.store).iter_entries() if e.entry_id == 3)
    forged = entry_hash(
        entry_id=3, timestamp=row.timestamp, actor="mallory", action=row.action, target=row.target, details=row.details, prev_hash=row.prev_hash
    )
    _sql(services, "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE entry_id = 3", h=forged)
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 4
    assert "does not link to entry 3" in report.first_break.reason


def test_deleting_an_entry_in_the_middle_names_the_entry_after_the_gap(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    _sql(services, "DELETE FROM audit_log WHERE entry_id = 3")
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 4
    assert "deleted" in report.first_break.reason


def test_deleting_the_first_entry_is_caught(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    _sql(services, "DELETE FROM audit_log WHERE entry_id = 1")
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 2
    assert "start of the chain" in report.first_break.reason


def test_swapping_two_entries_contents_is_caught_at_the_first_of_them(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    cols = ["timestamp", "actor", "action", "target", "details", "prev_hash", "hash"]
    with services.store.engine.begin() as conn:
        rows = {r.entry_id: r for r in conn.execute(sa.text(f"SELECT entry_id, {', '.join(cols)} FROM audit_log WHERE entry_id IN (4, 5)"))}
        for target, source in ((4, 5), (5, 4)):
            sets = ", ".join(f"{c} = :{c}" for c in cols)
            values = {c: getattr(rows[source], c) for c in cols}
            if not isinstance(values["details"], str):  # PostgreSQL hands JSON back parsed
                values["details"] = json.dumps(values["details"])
            conn.execute(sa.text(f"UPDATE audit_log SET {sets} WHERE entry_id = :id"), {**values, "id": target})
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 4


def test_renumbering_entries_into_another_order_is_caught(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    # move entry 2 to the end: ids 2 -> 100
    _sql(services, "UPDATE audit_log SET entry_id = 100 WHERE entry_id = 2")
    report = _verify(services)
    assert report.first_break is not None and report.first_break.entry_id == 3


def test_a_truncated_tail_is_caught_against_a_recorded_head(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    head = _verify(services)
    assert head.head_id is not None
    _sql(services, "DELETE FROM audit_log WHERE entry_id >= 5")
    # a chain alone cannot see that its newest entries are gone ...
    assert _verify(services).intact
    # ... the head recorded earlier can
    report = _verify(services, expect_head=(head.head_id, head.head_hash))
    assert report.first_break is not None and report.first_break.entry_id == 6
    assert "missing" in report.first_break.reason


def test_a_recomputed_chain_is_caught_against_a_recorded_head_and_a_signed_checkpoint(services: Services, tracking: TrackingService) -> None:
    _fill(services, tracking)
    head = _verify(services)
    keyed = Services(services.settings.model_copy(update={"master_key": SecretStr(generate_master_key())}), services.store, services.blobs)
    assert keyed.audit().checkpoint() is not None
    # the full forgery: edit entry 2 and rehash everything after it
    entries = list(SqlAuditStore(services.store).iter_entries())
    prev = entries[0].hash
    with services.store.engine.begin() as conn:
        for e in entries[1:]:
            actor = "mallory" if e.entry_id == 2 else e.actor
            digest = entry_hash(
                entry_id=e.entry_id, timestamp=e.timestamp, actor=actor, action=e.action, target=e.target, details=e.details, prev_hash=prev
            )
            conn.execute(
                sa.text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE entry_id = :id"),
                {"a": actor, "p": prev, "h": digest, "id": e.entry_id},
            )
            prev = digest
    assert verify_chain(SqlAuditStore(services.store).iter_entries()).intact  # the chain alone holds
    report = _verify(services, expect_head=(head.head_id, head.head_hash))
    assert report.first_break is not None and report.first_break.entry_id == head.head_id
    # the signed checkpoint catches it without being told the head
    report = keyed.audit().verify()
    assert report.first_break is not None and report.first_break.entry_id == head.head_id
    assert "differs from the checkpoint of" in report.first_break.reason


def test_appends_from_eight_threads_form_one_linear_chain(services: Services) -> None:
    store = SqlAuditStore(services.store)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(15):
                store.record(_event(worker * 100 + i))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = _verify(services)
    assert report.intact and report.checked == 120
    assert [e.entry_id for e in store.iter_entries()] == list(range(1, 121))


def _append_many(url: str, worker: int, count: int) -> int:
    store = SqlStore(url)
    try:
        for i in range(count):
            with store.write() as conn:
                append_audit(conn, _event(worker * 1000 + i))
        return count
    finally:
        store.close()


def test_appends_from_four_processes_form_one_linear_chain(services: Services) -> None:
    url = services.store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        done = pool.starmap(_append_many, [(url, w, 20) for w in range(4)])
    assert done == [20] * 4
    report = _verify(services)
    assert report.intact and report.checked == 80


def test_an_empty_chain_is_intact(services: Services) -> None:
    report = _verify(services)
    assert report.intact and report.checked == 0 and report.head_id is None


def test_verification_reads_a_long_chain_in_pages(services: Services) -> None:
    store = SqlAuditStore(services.store)
    with services.store.write() as conn:
        for i in range(25):
            append_audit(conn, _event(i))
    assert [e.entry_id for e in store.iter_entries(page_size=7)] == list(range(1, 26))
    assert AuditChainService(store).verify().checked == 25


def test_details_that_json_cannot_hold_are_refused_clearly(services: Services) -> None:
    from steward.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="JSON"):
        SqlAuditStore(services.store).record(AuditEvent("a", "b", "c", 0, {"s": {1, 2}}))
    assert _verify(services).intact

