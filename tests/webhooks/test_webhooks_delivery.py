"""Webhook delivery against a real receiver (an HTTP server on a loopback port): every
lifecycle event, signed; retries after 500s with backoff and a delivery log; each event once,
whatever the rounds and replicas; the secret nowhere but the ciphertext."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.adapters.sql._audit import SqlAuditStore
from steward.errors import InvalidInputError, NotFoundError
from steward.settings import Settings
from steward.tracking import now_ms
from steward.webhooks import EVENTS, event_of
from steward.wiring import Services, build_services
from webhook_testing import SECRET, home_settings, receiver, register_model


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Settings, Services]]:
    settings = home_settings(tmp_path / "home")
    services = build_services(settings)
    yield settings, services
    services.close()


def test_every_lifecycle_event_reaches_the_receiver_in_order_signed_with_the_secret(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver() as r:
        hooks = services.webhooks("alice")
        hooks.create_webhook("ci", r.url, project="fraud", events=["*"], secret=SECRET)
        v1 = register_model(settings, "fraud")
        registry = services.registry("bob")
        registry.approve("fraud", v1, comment="ok")
        registry.transition("fraud", v1, "production")
        registry.transition("fraud", v1, "deprecated")
        registry.transition("fraud", v1, "production")  # deprecated -> production: a rollback
        registry.set_alias("fraud", "champion", v1)
        deployments = services.deployments("dana")
        deployments.create_deployment("fraud-api", f"fraud:{v1}")
        v2 = register_model(settings, "fraud")
        registry.approve("fraud", v2, comment="better")
        deployments.canary("fraud-api", f"fraud:{v2}", percent=10)
        deployments.promote("fraud-api")
        deployments.rollback("fraud-api")
        registry.retire("fraud", v2)
        done = hooks.deliver()
        assert done.leased and done.enqueued == done.attempted == done.succeeded == 11 and done.pending == 0
        assert r.events() == [
            "model_version.created", "model_version.approved", "model_version.promoted", "model_version.rolled_back",
            "model_version.promoted", "deployment.created", "model_version.created", "model_version.approved",
            "deployment.promoted", "deployment.rolled_back", "model_version.retired",
        ]
        for got in r.got:
            assert got.signed_with(SECRET) and not got.signed_with(SECRET + "x")
            payload = json.loads(got.body)
            assert payload["id"] == got.headers["x-steward-delivery"] and payload["event"] == got.event
            assert payload["project"] == "fraud" and got.headers["content-type"] == "application/json"
        by_event = {json.loads(g.body)["event"]: json.loads(g.body) for g in r.got}
        assert by_event["model_version.retired"]["model"] == {"name": "fraud", "version": v2, "alias": None}
        assert by_event["deployment.rolled_back"]["deployment"] == {"name": "fraud-api"}
        promoted = [json.loads(g.body) for g in r.got if g.event == "model_version.promoted"]
        assert promoted[-1]["model"] == {"name": "fraud", "version": v1, "alias": "champion"}
        assert by_event["model_version.approved"]["actor"] == "bob"
        assert by_event["model_version.approved"]["audit"]["action"] == "models.approve"


def test_a_500_is_retried_with_backoff_and_every_attempt_is_in_the_delivery_log(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver([500, 503]) as r:
        hooks = services.webhooks("alice")
        hooks.backoff_ms = 10_000
        hooks.create_webhook("ci", r.url, project="fraud", events=["model_version.created"], secret=SECRET, max_attempts=3)
        register_model(settings, "fraud")
        start = now_ms()
        first = hooks.deliver(now=start)
        assert (first.enqueued, first.attempted, first.succeeded, first.pending) == (1, 1, 0, 1)
        assert hooks.deliver(now=start + 5_000).attempted == 0  # not due before the backoff
        assert hooks.deliver(now=start + 10_000).attempted == 1  # 503, the wait doubles
        assert hooks.deliver(now=start + 29_000).attempted == 0
        last = hooks.deliver(now=start + 30_000)
        assert (last.attempted, last.succeeded, last.pending) == (1, 1, 0)
        [delivery] = hooks.list_deliveries("ci")
        assert delivery.status == "succeeded" and delivery.attempts == 3 and delivery.last_status_code == 200
        assert [(a.attempt, a.status_code, a.error) for a in delivery.log] == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, None)]
        assert [a.started_at for a in delivery.log] == [start, start + 10_000, start + 30_000]
        assert all(a.duration_ms >= 0 for a in delivery.log)
        # the same delivery id and body every time: receivers de-duplicate on it
        assert len({g.headers["x-steward-delivery"] for g in r.got}) == 1 and len({g.body for g in r.got}) == 1
        assert [g.headers["x-steward-attempt"] for g in r.got] == ["1", "2", "3"]
        shown = delivery.to_dict()
        assert shown["payload"]["event"] == "model_version.created" and [a["status_code"] for a in shown["log"]] == [500, 503, 200]  # type: ignore[index]


def test_attempts_spent_fail_the_delivery_and_redeliver_sends_it_again(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver([500, 500]) as r:
        hooks = services.webhooks("alice")
        hooks.create_webhook("ci", r.url, project="fraud", events=["model_version.created"], secret=SECRET, max_attempts=2)
        register_model(settings, "fraud")
        start = now_ms()
        hooks.deliver(now=start)
        done = hooks.deliver(now=start + 3_600_000)
        assert done.failed == 1 and done.pending == 0
        [failed] = hooks.list_deliveries("ci", status="failed")
        assert failed.remaining == 0 and [a.status_code for a in failed.log] == [500, 500]
        again = hooks.redeliver("ci", failed.delivery_id)
        assert again.status == "succeeded" and again.attempts == 3 and again.delivery_id == failed.delivery_id
        assert r.got[-1].headers["x-steward-delivery"] == failed.delivery_id and r.got[-1].body == r.got[0].body
        with pytest.raises(NotFoundError):
            hooks.redeliver("ci", "0" * 32)


def test_an_unreachable_receiver_is_recorded_without_a_status_and_retried(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hooks = services.webhooks("alice")
    hooks.create_webhook("down", f"http://127.0.0.1:{port}/hook?token=t0ps3cret", project="fraud", events=["*"], secret=SECRET)
    register_model(settings, "fraud")
    hooks.deliver()
    [delivery] = hooks.list_deliveries("down")
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error and "Connect" in delivery.last_error and "t0ps3cret" not in delivery.last_error


def test_each_event_is_delivered_once_whatever_the_rounds_and_replicas(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver() as r:
        hooks = services.webhooks("alice")
        hooks.create_webhook("ci", r.url, project="fraud", events=["*"], secret=SECRET)
        register_model(settings, "fraud")
        # another replica holds the delivery lease: this one does nothing this round
        assert hooks.store.acquire_lease("deliveries", "replica-2", now_ms(), 60_000)
        assert not hooks.deliver().leased
        hooks.store.release_lease("deliveries", "replica-2")
        assert hooks.deliver().succeeded == 1
        again = services.webhooks("someone-else").deliver()
        assert (again.enqueued, again.attempted) == (0, 0)
        assert r.events() == ["model_version.created"]


def test_only_the_subscribed_project_and_events_after_the_subscription_are_delivered(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver() as r:
        hooks = services.webhooks("alice")
        v1 = register_model(settings, "fraud")  # before any subscription: nobody's
        hooks.create_webhook("approvals", r.url, project="fraud", events=["model_version.approved"], secret=SECRET)
        hooks.create_webhook("elsewhere", r.url, project="churn", events=["*"], secret=SECRET)
        services.registry("bob").approve("fraud", v1, comment="ok")
        register_model(settings, "fraud")  # created: not subscribed to
        hooks.deliver()
        assert r.events() == ["model_version.approved"]
        assert hooks.list_deliveries("elsewhere") == []


def test_the_secret_is_nowhere_but_its_ciphertext(world: tuple[Settings, Services], caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    settings, services = world
    caplog.set_level(logging.DEBUG)
    with receiver([500]) as r:
        hooks = services.webhooks("alice")
        created = hooks.create_webhook("ci", r.url, project="fraud", events=["*"], secret=SECRET)
        register_model(settings, "fraud")
        hooks.deliver()
        hooks.deliver(now=now_ms() + 60_000)
        hooks.test_webhook("ci")
        shown = json.dumps([
            created.to_dict(), hooks.get_webhook("ci").to_dict(), [w.to_dict() for w in hooks.list_webhooks()],
            [d.to_dict() for d in hooks.list_deliveries("ci")],
        ])
    assert r.got and SECRET not in shown and "has_secret" in shown
    assert SECRET not in caplog.text
    entries = list(SqlAuditStore(services.store).iter_entries())
    assert any(e.action == "webhooks.create" for e in entries)
    assert SECRET not in json.dumps([e.details for e in entries])
    services.store.close()
    raw = b"".join(p.read_bytes() for p in (settings.home).rglob("steward.db*"))  # type: ignore[union-attr]
    assert SECRET.encode() not in raw


def test_bad_input_is_refused_naming_the_field(world: tuple[Settings, Services]) -> None:
    _settings, services = world
    hooks = services.webhooks("alice")
    cases = [
        ({"name": "Bad Name"}, "name"), ({"url": "ftp://x/y"}, "url"), ({"url": "not a url"}, "url"),
        ({"events": ["model.exploded"]}, "events"), ({"events": []}, "events"), ({"secret": "short"}, "secret"),
        ({"project": "*"}, "project"), ({"project": ""}, "project"), ({"max_attempts": 0}, "max_attempts"),
    ]
    for change, field in cases:
        args: dict[str, object] = {"name": "ci", "url": "https://ci.example.com/hook", "project": "fraud", "events": ["*"], "secret": SECRET, **change}
        with pytest.raises(InvalidInputError) as info:
            hooks.create_webhook(
                str(args["name"]), str(args["url"]), project=str(args["project"]), events=args["events"],  # type: ignore[arg-type]
                secret=str(args["secret"]), max_attempts=args.get("max_attempts", 5),  # type: ignore[arg-type]
            )
        assert info.value.field == field, change
    with pytest.raises(NotFoundError):
        hooks.get_webhook("nope")


def test_audit_actions_map_to_events_and_retirement_is_one_event() -> None:
    assert event_of("model_version.retire", "models:/fraud/2", {}) is None  # the transition before it is the event
    assert event_of("models.transition", "models:/fraud/2", {"from": "approved", "to": "retired"}).event == "model_version.retired"  # type: ignore[union-attr]
    assert event_of("models.transition", "models:/fraud/2", {"from": "approved", "to": "production"}).event == "model_version.promoted"  # type: ignore[union-attr]
    assert event_of("models.transition", "models:/fraud/2", {"from": "production", "to": "deprecated"}) is None
    assert event_of("models.set_alias", "models:/fraud@champion", {"version": 4}).version == 4  # type: ignore[union-attr]
    assert event_of("deployments.rollout.rollback", "deployments:/fraud-api", {}).event == "deployment.rolled_back"  # type: ignore[union-attr]
    assert event_of("deployments.canary", "deployments:/fraud-api", {}) is None
    assert event_of("models.retrain.start", "models:/fraud", {}) is None
    assert event_of("runs.create", "runs:/abc", {}) is None
    assert len(set(EVENTS)) == 8


def test_steward_models_retire_is_one_retired_event(world: tuple[Settings, Services]) -> None:
    settings, services = world
    with receiver() as r:
        hooks = services.webhooks("alice")
        hooks.create_webhook("ci", r.url, project="fraud", events=["model_version.retired"], secret=SECRET)
        version = register_model(settings, "fraud")
        services.stewardship("bob").retire("fraud", version, comment="superseded")
        hooks.deliver()
        assert r.events() == ["model_version.retired"]
        assert json.loads(r.got[0].body)["model"] == {"name": "fraud", "version": version, "alias": None}
