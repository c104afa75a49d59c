"""Alert notifications: a signed webhook, a structured log line, Prometheus alert gauges.

Webhooks are delivered on a small worker pool, never on the caller's path: an evaluation
returns once its state is stored, and a slow or failing receiver only delays its own
retries. A delivery is a JSON POST whose body is signed with HMAC-SHA256 under a stored
secret (``X-Steward-Signature: sha256=<hex>``, as GitHub signs its webhooks); 5xx, 429 and
connection failures are retried with exponential backoff, within both a number of attempts
and a total time; any other answer is final. Secret values and webhook URLs never reach
the log (a URL may carry a token): deliveries are logged by webhook name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from steward.core.alerts import AlertEvent, AlertRule, AlertStatus

from ._alert_rules import Webhook

__all__ = ["SIGNATURE_HEADER", "AlertGauges", "Delivery", "Notifier", "alert_payload", "deliver_webhook", "sign"]

SIGNATURE_HEADER = "X-Steward-Signature"
_log = logging.getLogger("steward.alerts")


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def alert_payload(rule: AlertRule, event: AlertEvent) -> dict[str, object]:
    """The JSON document a notification carries."""
    return {
        "rule": rule.name, "event": event.kind.value, "severity": rule.severity, "metric": rule.metric,
        "condition": rule.describe(), "deployment": rule.deployment, "at_ms": event.at_ms, "evidence": event.evidence,
    }


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one webhook delivery ended: ``status`` is the last HTTP status (None: no answer)."""

    webhook: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {"webhook": self.webhook, "ok": self.ok, "attempts": self.attempts, "status": self.status, "error": self.error,
                "seconds": round(self.seconds, 3)}


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def deliver_webhook(
    webhook: Webhook,
    payload: dict[str, object],
    secret: str | None,
    *,
    base_delay_s: float = 0.5,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``payload`` to ``webhook``, retrying 5xx, 429 and connection failures.

    The n-th retry waits ``base_delay_s * 2**(n-1)``; delivery stops after
    ``webhook.max_attempts`` attempts, or when the next wait would pass ``webhook.max_time_s``.
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "steward-alerts"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    with httpx.Client(timeout=webhook.timeout_s, transport=transport, follow_redirects=False) as client:
        for attempt in range(1, webhook.max_attempts + 1):
            try:
                status = client.post(webhook.url, content=body, headers=headers).status_code
                error = None if status < 300 else f"HTTP {status}"
            except httpx.HTTPError as exc:
                status, error = None, type(exc).__name__
            if status is not None and status < 300:
                return Delivery(webhook.name, True, attempt, status, None, time.monotonic() - started)
            if status is not None and not _retryable(status):
                break
            delay = base_delay_s * 2 ** (attempt - 1)
            if attempt == webhook.max_attempts or time.monotonic() - started + delay > webhook.max_time_s:
                break
            sleep(delay)
    return Delivery(webhook.name, False, attempt, status, error, time.monotonic() - started)


class AlertGauges:
    """``steward_alert_firing{rule,severity}``: 1 while a rule fires, 0 otherwise, in a registry
    of its own that the server's ``GET /metrics`` renders (prometheus_client, from the
    ``serve`` extra; without it the gauges are empty)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        try:
            from prometheus_client import CollectorRegistry, Gauge
        except ImportError:  # the serve extra is not installed
            self.registry = None
            self._gauge = None
            return
        self.registry = CollectorRegistry()
        self._gauge = Gauge("steward_alert_firing", "1 while the alert rule fires, else 0.", ["rule", "severity"], registry=self.registry)

    def set(self, rule: AlertRule, status: AlertStatus) -> None:
        self.set_named(rule.name, rule.severity, status)

    def set_named(self, rule: str, severity: str, status: AlertStatus) -> None:
        if self._gauge is not None:
            with self._lock:
                self._gauge.labels(rule=rule, severity=severity).set(1.0 if status is AlertStatus.FIRING else 0.0)

    def render(self) -> bytes:
        """The Prometheus text exposition of the gauges."""
        if self.registry is None:
            return b"# prometheus_client is not installed (pip install 'steward[serve]')\n"
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class Notifier:
    """Sends each event of a rule to its channels: ``log`` at once, ``prometheus`` at once,
    ``webhook:<name>`` on the worker pool.

    Args:
        webhooks: the rule file's webhooks by name.
        secret: the value of a stored secret by name (resolved per delivery, never logged).
        gauges: the process's alert gauges.
        on_delivery: told how each webhook delivery ended (on the worker thread).
        contacts: the model owner and on-call contact of a deployment, added to each payload.
        base_delay_s: the first retry's wait.
    """

    def __init__(
        self,
        webhooks: dict[str, Webhook],
        secret: Callable[[str], str],
        gauges: AlertGauges,
        *,
        on_delivery: Callable[[AlertRule, AlertEvent, Delivery], None] | None = None,
        base_delay_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        pool: ThreadPoolExecutor | None = None,
        contacts: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self.webhooks = webhooks
        self.contacts = contacts  # deployment -> its model's owner and on-call (issue 13)
        self.secret = secret
        self.gauges = gauges
        self.on_delivery = on_delivery
        self.base_delay_s = base_delay_s
        self.transport = transport
        self._own_pool = pool is None
        self._pool = pool or ThreadPoolExecutor(max_workers=2, thread_name_prefix="steward-alert-webhook")

    def notify(self, rule: AlertRule, event: AlertEvent, status: AlertStatus) -> list[Future[Delivery]]:
        """Send ``event``; returns the pending webhook deliveries (the caller need not wait)."""
        payload = alert_payload(rule, event)
        if self.contacts is not None and rule.deployment:
            try:
                payload.update(self.contacts(rule.deployment))  # the alert names whom it concerns
            except Exception as exc:  # noqa: BLE001 - a lookup failure must not stop the notification
                _log.warning("looking up the owner of %s failed: %s", rule.deployment, type(exc).__name__)
        futures: list[Future[Delivery]] = []
        for channel in rule.notify:
            if channel == "log":
                level = logging.WARNING if event.kind.value == "fired" else logging.INFO
                _log.log(level, "%s", json.dumps({"alert": rule.name, **{k: v for k, v in payload.items() if k != "rule"}}, default=str, sort_keys=True))
            elif channel == "prometheus":
                self.gauges.set(rule, status)
            elif channel.startswith("webhook:") and channel[8:] in self.webhooks:
                futures.append(self._pool.submit(self._deliver, self.webhooks[channel[8:]], rule, event, payload))
        return futures

    def _deliver(self, webhook: Webhook, rule: AlertRule, event: AlertEvent, payload: dict[str, object]) -> Delivery:
        try:
            secret = self.secret(webhook.secret) if webhook.secret else None
        except Exception as exc:  # noqa: BLE001 - a missing or undecryptable secret fails this delivery, not the evaluation
            delivery = Delivery(webhook.name, False, 0, None, f"secret {webhook.secret!r} unavailable: {type(exc).__name__}")
        else:
            delivery = deliver_webhook(webhook, payload, secret, base_delay_s=self.base_delay_s, transport=self.transport)
        _log.log(logging.INFO if delivery.ok else logging.WARNING, "%s", json.dumps({"alert": rule.name, "event": event.kind.value, **delivery.to_dict()}))
        if self.on_delivery is not None:
            try:
                self.on_delivery(rule, event, delivery)
            except Exception as exc:  # noqa: BLE001 - recording the outcome must not kill the worker
                _log.warning("recording the delivery of %s failed: %s", rule.name, type(exc).__name__)
        return delivery

    def close(self, *, wait: bool = True) -> None:
        """Stop taking deliveries (a pool it was given stays open); with ``wait``, finish those in flight."""
        if self._own_pool:
            self._pool.shutdown(wait=wait)
