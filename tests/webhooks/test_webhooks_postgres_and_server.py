"""The delivery outbox on PostgreSQL (two workers as two replicas: one delivery per event),
and a live ``steward server`` delivering on its own, with no command to drive it."""

from __future__ import annotations

import time
from pathlib import Path

from steward import Client
from steward.governance import generate_master_key
from steward.wiring import build_services
from webhook_testing import SECRET, home_settings, receiver, register_model


def test_two_workers_on_postgresql_deliver_each_event_once(pg_url: str, tmp_path: Path) -> None:
    settings = home_settings(tmp_path / "pg", database_url=pg_url, master_key=generate_master_key())
    one, two = build_services(settings), build_services(settings)
    try:
        with receiver([500]) as r:
            one.webhooks("alice").create_webhook("ci", r.url, project="fraud", events=["*"], secret=SECRET)
            version = register_model(settings, "fraud")
            one.registry("bob").approve("fraud", version, comment="ok")
            first, second = one.webhooks("w1"), two.webhooks("w2")
            rounds = [first.deliver(), second.deliver(), first.deliver(), second.deliver()]
            assert sum(r.enqueued for r in rounds) == 2
            later = time.time_ns() // 1_000_000 + 60_000
            rounds += [second.deliver(now=later), first.deliver(now=later)]
            assert r.events().count("model_version.approved") == 1
            assert sorted(r.events()) == ["model_version.approved", "model_version.created", "model_version.created"]
            deliveries = first.list_deliveries("ci")
            assert [d.status for d in deliveries] == ["succeeded", "succeeded"]
            assert sum(d.attempts for d in deliveries) == 3
    finally:
        one.close()
        two.close()


def test_a_running_server_delivers_events_by_itself(tmp_path: Path) -> None:
    from live_server import LiveServer

    home = tmp_path / "home"
    home.mkdir()
    server = LiveServer({
        "STEWARD_HOME": str(home), "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
        "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"), "STEWARD_USER": "server", "STEWARD_AUTH": "off",
    })
    try:
        with receiver() as r:
            remote = Client(home_settings(tmp_path / "client", tracking_uri=server.url))
            try:
                remote.webhooks.create_webhook("ci", r.url, project="fraud", events=["model_version.created"], secret=SECRET)
            finally:
                remote.close()
            register_model(home_settings(home), "fraud")
            deadline = time.monotonic() + 20
            while not r.got and time.monotonic() < deadline:
                time.sleep(0.1)
            assert r.events() == ["model_version.created"] and r.got[0].signed_with(SECRET)
    finally:
        server.stop()
