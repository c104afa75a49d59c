"""A trigger that fires twice for the same event starts one pipeline: two runners looking at
the same time (two server replicas), a start claimed twice, a runner whose lease another
holds. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from triggers_testing import NOW, frame, pipeline_file

from steward.tracking import AuditEvent
from steward.triggers import TriggerStart
from steward.triggers._runner import TriggerRunner
from steward.wiring import Services


def _together(n: int, work: list[object]) -> list[object]:
    """Run each callable of ``work`` in its own thread, released at the same moment."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n
    errors: list[BaseException] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work[i]()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_two_runners_looking_at_once_start_one_pipeline_per_event(services: Services, tmp_path: Path) -> None:
    pipeline = str(pipeline_file(tmp_path))
    services.data("dana").register("transactions", frame(seed=1))
    cron = services.triggers("dana").create_trigger("nightly", "cron", pipeline, schedule="*/15 * * * *", now=NOW)
    services.triggers("dana").create_trigger("on-data", "dataset", pipeline, dataset="transactions")
    services.data("dana").register("transactions", frame(seed=2))
    assert cron.next_fire_at is not None
    at = cron.next_fire_at + 1
    # several rounds, each with both replicas released together; any one may win each trigger
    for _ in range(3):
        _together(2, [lambda h=h: services.triggers("steward-trigger").run_due(h, now=at) for h in ("replica-a", "replica-b")])
    triggers = services.triggers("dana")
    assert [s.event_key for s in triggers.history("nightly")] == [f"cron:{cron.next_fire_at}"]
    assert [s.event_key for s in triggers.history("on-data")] == ["dataset:transactions:2"]
    assert all(s.status == "finished" for n in ("nightly", "on-data") for s in triggers.history(n))
    starts = [a for a in services.store.list_audit(limit=10_000) if a.action == "triggers.start"]
    assert len(starts) == 2  # one audited start per event


def test_an_event_claimed_by_two_at_once_is_stored_and_audited_once(services: Services, tmp_path: Path) -> None:
    triggers = services.triggers("dana")
    triggers.create_trigger("nightly", "cron", str(pipeline_file(tmp_path)), schedule="0 3 * * *", now=NOW)
    store = triggers.store

    def claim() -> TriggerStart | None:
        start = TriggerStart(0, "nightly", "cron:42", {"tick": "x"}, {}, "started", started_at=NOW, started_by="x")
        return store.claim_start(start, AuditEvent("x", "triggers.start", "triggers:/nightly", NOW, {}))

    for _ in range(3):
        results = _together(4, [claim] * 4)
        assert sum(r is not None for r in results) <= 1
    assert [s.event_key for s in store.list_starts("nightly", 10)] == ["cron:42"]
    assert len([a for a in services.store.list_audit(target="triggers:/nightly") if a.action == "triggers.start"]) == 1


def test_a_trigger_leased_by_another_runner_is_left_to_it(services: Services, tmp_path: Path) -> None:
    trigger = services.triggers("dana").create_trigger("nightly", "cron", str(pipeline_file(tmp_path)), schedule="0 3 * * *", now=NOW)
    assert trigger.next_fire_at is not None
    store = services.triggers("dana").store
    assert store.acquire_lease("nightly", "other-replica", trigger.next_fire_at, 60_000)
    runner = TriggerRunner(services, 1.0, holder="me")
    try:
        assert runner.look(now=trigger.next_fire_at + 1) == []
        # once the other holder's lease has expired, the trigger is taken over
        [future] = runner.look(now=trigger.next_fire_at + 60_001)
        assert future.result(timeout=120).status == "finished"
    finally:
        runner.close()


@pytest.mark.parametrize("kind", ["cron"])
def test_the_server_runs_the_runner_in_its_lifespan(services: Services, tmp_path: Path, kind: str) -> None:
    import asyncio

    from steward.server import create_app

    settings = services.settings.model_copy(update={"monitor_interval": 0.05})
    trigger = services.triggers("dana").create_trigger("every-minute", kind, str(pipeline_file(tmp_path)), schedule="* * * * *")
    # due now: the next tick moved to the past, as if the server had been down
    services.triggers("dana").store.set_cursor("every-minute", {}, (trigger.next_fire_at or 0) - 120_000)
    app = create_app(settings, services)

    async def serve_a_while() -> None:
        async with app.router.lifespan_context(app):
            for _ in range(200):
                await asyncio.sleep(0.05)
                history = await asyncio.to_thread(services.triggers("dana").history, "every-minute")
                if history and history[0].status in ("finished", "failed"):
                    return

    asyncio.run(serve_a_while())
    [start] = services.triggers("dana").history("every-minute")
    assert start.status == "finished" and start.started_by == "steward-trigger", start.error
