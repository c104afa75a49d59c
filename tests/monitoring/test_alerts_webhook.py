"""Webhook notifications against a real HTTP server on a loopback port: signed with HMAC,
retried after 5xx with exponential backoff, bounded in attempts and time, off the caller's path."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from steward import Settings
from steward.core.alerts import AlertStatus, Observation
from steward.monitoring._alert_rules import Webhook, parse_alert_rules
from steward.monitoring._notify import SIGNATURE_HEADER, deliver_webhook
from steward.wiring import Services


@dataclass
class Receiver:
    """A webhook receiver: answers the scripted statuses in turn (then 200) and keeps what came."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.received.append((time.monotonic(), dict(self.headers.items()), body))
            status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield rec
    server.shutdown()
    server.server_close()
    thread.join()


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers[SIGNATURE_HEADER])


def test_a_delivery_is_a_json_post_signed_with_the_secret(receiver: Receiver) -> None:
    delivery = deliver_webhook(Webhook("ops", receiver.url), {"rule": "drift-high", "value": 0.5}, "s3cret-value")
    assert delivery.ok and delivery.attempts == 1 and delivery.status == 200
    [(_, headers, body)] = receiver.received
    assert headers["Content-Type"] == "application/json" and json.loads(body) == {"rule": "drift-high", "value": 0.5}
    assert _verify("s3cret-value", headers, body)
    assert not _verify("another-secret", headers, body)


def test_server_errors_are_retried_with_exponential_backoff_until_one_succeeds(receiver: Receiver) -> None:
    receiver.statuses = [500, 503, 500]
    delivery = deliver_webhook(Webhook("ops", receiver.url, max_attempts=5), {"n": 1}, "k", base_delay_s=0.05)
    assert delivery.ok and delivery.attempts == 4 and len(receiver.received) == 4
    times = [t for t, _, _ in receiver.received]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # doubling waits
    assert all(_verify("k", h, b) for _, h, b in receiver.received)  # every attempt carries the same signature


def test_a_receiver_that_keeps_failing_is_given_up_after_the_attempts_allowed(receiver: Receiver) -> None:
    receiver.statuses = [500] * 50
    delivery = deliver_webhook(Webhook("ops", receiver.url, max_attempts=3), {"n": 1}, None, base_delay_s=0.01)
    assert not delivery.ok and delivery.attempts == 3 and delivery.status == 500 and len(receiver.received) == 3
    assert SIGNATURE_HEADER not in receiver.received[0][1]  # no secret: unsigned


def test_retries_stop_within_the_total_time_allowed(receiver: Receiver) -> None:
    receiver.statuses = [500] * 50
    started = time.monotonic()
    delivery = deliver_webhook(Webhook("ops", receiver.url, max_attempts=20, max_time_s=0.5), {"n": 1}, None, base_delay_s=0.05)
    # 0.05 + 0.1 + 0.2 s of waits fit in 0.5 s, 0.4 s more would not: about 4 attempts, far from 20
    assert not delivery.ok and time.monotonic() - started < 3.0  # generous: the machine is shared
    assert 2 <= delivery.attempts <= 4


def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [404]
    delivery = deliver_webhook(Webhook("ops", receiver.url), {"n": 1}, None, base_delay_s=0.01)
    assert not delivery.ok and delivery.attempts == 1 and delivery.status == 404


def test_an_unreachable_receiver_is_retried_then_given_up() -> None:
    delivery = deliver_webhook(Webhook("ops", "http://127.0.0.1:9/hook", max_attempts=2, timeout_s=0.5), {"n": 1}, None, base_delay_s=0.01)
    assert not delivery.ok and delivery.attempts == 2 and delivery.status is None and delivery.error == "ConnectError"


@pytest.fixture
def keyed(settings: Settings, services: Services, tmp_path: Path) -> Iterator[Services]:
    svc = Services(settings.model_copy(update={"master_key_file": tmp_path / "master.key"}), services.store, services.blobs)
    yield svc
    svc.alert_runtime().close()


def test_a_firing_alert_posts_a_webhook_signed_with_the_stored_secret_off_the_callers_path(
    receiver: Receiver, keyed: Services, caplog: pytest.LogCaptureFixture
) -> None:
    keyed.secrets("admin").set_secret("OPS_WEBHOOK", "hook-signing-key")
    receiver.statuses = [500]
    rules = parse_alert_rules(f"""\
rules:
  - {{name: drift-high, metric: drift.share, comparison: ">", threshold: 0.3, min_sample: 100, notify: [log, prometheus, "webhook:ops"]}}
webhooks:
  ops: {{url: "{receiver.url}", secret: OPS_WEBHOOK}}
""")
    alerts = keyed.alerts("monitor")
    alerts.base_delay_s = 0.05
    with caplog.at_level("INFO", logger="steward.alerts"):
        evaluation = alerts.evaluate(rules, {"drift.share": Observation(1_000_000, 0.6, 500)})
        assert evaluation.outcomes[0].state.status is AlertStatus.FIRING
        [delivery] = evaluation.wait(timeout=10)
    assert getattr(delivery, "ok", False)
    assert len(receiver.received) == 2  # a 500, then delivered
    _, headers, body = receiver.received[-1]
    assert _verify("hook-signing-key", headers, body)
    payload = json.loads(body)
    assert (payload["rule"], payload["event"], payload["evidence"]["value"], payload["evidence"]["sample"]) == ("drift-high", "fired", 0.6, 500)
    assert "hook-signing-key" not in caplog.text and receiver.url not in caplog.text
    assert any('"alert": "drift-high"' in r.getMessage() and '"event": "fired"' in r.getMessage() for r in caplog.records)
    _record, events = alerts.get_alert("drift-high")
    assert [e.kind for e in events] == ["notified", "fired"]
    assert events[0].evidence["attempts"] == 2
    gauges = keyed.alert_runtime().gauges.render().decode()
    assert 'steward_alert_firing{rule="drift-high",severity="warning"} 1.0' in gauges
    audit = keyed.store.list_audit(target="alerts:/drift-high")
    assert [a.action for a in audit] == ["alerts.fire"] and audit[0].details["value"] == 0.6
