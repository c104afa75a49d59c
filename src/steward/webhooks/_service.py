"""Webhooks: subscriptions to registry and deployment events, and their delivery.

A subscription names a project, the events it wants (:data:`~._events.EVENTS`), a URL and a
secret. The delivery worker (:meth:`WebhookService.deliver`) tails the hash-chained audit
trail after a stored cursor, turns each registry or deployment entry that is an event into
one outbox row per matching subscription, and POSTs the rows that are due:

    POST <url>
    Content-Type: application/json
    X-Steward-Event: model_version.approved
    X-Steward-Delivery: <32 hex: the same on every attempt, so receivers can de-duplicate>
    X-Steward-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>

A 2xx answer ends the delivery. Anything else (another status, a timeout, a refused
connection) is retried with exponential backoff until the subscription's attempts are spent;
every attempt is recorded (status code, duration, error). Rounds run under one lease, so
server replicas never send a delivery twice at once. The secret is stored encrypted under
the master key (AES-256-GCM, as :mod:`steward.governance` stores secrets), registered with
the log redactor whenever it is handled, and never returned, logged or audited; URLs are
not logged either (one may carry a token): log lines name the webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steward import __version__
from steward.core.entities import AuditEntry
from steward.core.permissions import new_project
from steward.errors import IntegrityError, InvalidInputError, NotFoundError
from steward.governance import MasterKey, Redactor
from steward.tracking import AuditEvent, now_ms

from ._events import EVENTS, PING, Occurrence, event_of
from ._ports import Attempt, Delivery, NewDelivery, NewWebhook, Webhook, WebhookStore

__all__ = ["SIGNATURE_HEADER", "DeliveryRound", "WebhookService", "check_events", "check_url", "check_webhook_name", "sign"]

log = logging.getLogger("steward.webhooks")

SIGNATURE_HEADER = "X-Steward-Signature"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_NONCE = 12
_LEASE = "deliveries"
_SCAN_PAGE = 500
_MAX_BACKOFF_MS = 3_600_000
MIN_SECRET_CHARS = 16
MAX_SECRET_BYTES = 4096


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body`` under ``secret``.

    Example:
        >>> sign("s3cret-s3cret-s3cret", b"{}")[:7]
        'sha256='
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class DeliveryRound:
    """What one round of the delivery worker did.

    Attributes:
        leased: False when another process holds the delivery lease (nothing was done).
        enqueued: new deliveries written from the audit trail.
        attempted: POSTs made; ``succeeded`` and ``failed`` (attempts spent) of them.
        pending: deliveries still waiting in the outbox after the round (retries not due yet).
    """

    leased: bool
    enqueued: int = 0
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    pending: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "leased": self.leased, "enqueued": self.enqueued, "attempted": self.attempted,
            "succeeded": self.succeeded, "failed": self.failed, "pending": self.pending,
        }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _body(document: dict[str, object]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)


def check_webhook_name(name: str) -> str:
    """A webhook name: lowercase letters, digits and ``-``, at most 63, starting with a letter or digit.

    Raises:
        InvalidInputError: naming the rule.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError("a webhook name is 1-63 lowercase letters, digits or '-', starting with a letter or digit", field="name")
    return name


def check_url(url: str) -> str:
    """An absolute ``http`` or ``https`` URL of at most 2,000 characters.

    Raises:
        InvalidInputError: anything else (the message never echoes the URL: it may carry a token).
    """
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c.isspace() for c in url) or not url.isprintable():
        raise InvalidInputError("a webhook URL is an http(s) URL of at most 2000 characters", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError("a webhook URL is an absolute http:// or https:// URL", field="url")
    return url


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    """Known event names (``*``: all of them), de-duplicated in lifecycle order.

    Raises:
        InvalidInputError: none, or an unknown one (the message lists the events).
    """
    given = {e.strip() for e in events if isinstance(e, str) and e.strip()}
    if "*" in given:
        return EVENTS
    unknown = given - set(EVENTS)
    if unknown or not given:
        what = f"unknown event {min(unknown)[:64]!r}" if unknown else "no events"
        raise InvalidInputError(f"{what}; events: {', '.join(EVENTS)} (or *)", field="events")
    return tuple(e for e in EVENTS if e in given)


def _check_secret(secret: str) -> bytes:
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
        raise InvalidInputError(f"a webhook secret is at least {MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)", field="secret")
    data = secret.encode("utf-8")
    if len(data) > MAX_SECRET_BYTES:
        raise InvalidInputError(f"a webhook secret is at most {MAX_SECRET_BYTES} bytes", field="secret")
    return data


def _associated(name: str) -> bytes:
    # a ciphertext copied onto another webhook (or a secret) does not decrypt
    return f"webhook:{name}".encode()


class WebhookService:
    """Manage webhooks acting as ``actor``, and deliver their events.

    Args:
        store: subscriptions, outbox, cursor and lease.
        key: the master key, read when a secret is encrypted or decrypted.
        actor: who is acting (recorded in the audit trail).
        redactor: where secrets this process handles are registered for log masking.
        transport: an httpx transport (tests of unreachable hosts); default: the network.
        timeout_s: seconds one POST may take.
        backoff_s: the wait before the first retry; each later one doubles (at most an hour).
        holder: this process's id in the lease row.
        public_only: refuse URLs whose host is or resolves to a non-public address, at creation
            and at each delivery (:mod:`steward._egress`; team mode's default).

    Example:
        >>> Client().webhooks.create_webhook("ci", "https://ci.example.com/hook", project="fraud",
        ...     events=["model_version.approved"], secret=os.environ["HOOK_SECRET"])  # doctest: +SKIP
    """

    def __init__(
        self,
        store: WebhookStore,
        key: Callable[[], MasterKey],
        actor: str,
        *,
        redactor: Redactor | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
        backoff_s: float = 10.0,
        holder: str | None = None,
        public_only: bool = False,
    ) -> None:
        self.public_only = public_only
        self.store = store
        self._key = key
        self.actor = actor
        self.redactor = redactor or Redactor()
        self.transport = transport
        self.timeout_s = timeout_s
        self.backoff_ms = int(backoff_s * 1000)
        self.holder = holder or f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _event(self, action: str, name: str, details: dict[str, object] | None = None) -> AuditEvent:
        # names, hosts and ids only: never a secret, never a whole URL (it may carry a token)
        return AuditEvent(self.actor, action, f"webhooks:/{name}", now_ms(), details or {})

    # -- subscriptions -------------------------------------------------------------------

    def create_webhook(
        self, name: str, url: str, *, project: str, events: Iterable[str], secret: str, max_attempts: int = 5
    ) -> Webhook:
        """Subscribe ``url`` to ``events`` of ``project``; deliveries are signed with ``secret``.

        Only events after the subscription are delivered.

        Raises:
            InvalidInputError: a bad name, URL (or, with ``public_only``, one whose host is
                not public), project, event list, secret (under 16 characters) or
                ``max_attempts`` (1-20).
            ConflictError: the name is taken.
            StorageError: no master key is configured and none may be created.
        """
        check_webhook_name(name)
        check_url(url)
        if self.public_only:
            from steward._egress import check_public_url

            check_public_url(url)
        if not isinstance(project, str) or not project:
            raise InvalidInputError("a webhook needs the project whose events it receives", field="project")
        owner = new_project(name, project)
        wanted = check_events(events)
        data = _check_secret(secret)
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or not 1 <= max_attempts <= 20:
            raise InvalidInputError("max_attempts is 1-20", field="max_attempts")
        key = self._key()
        nonce = os.urandom(_NONCE)
        ciphertext = nonce + AESGCM(key.key).encrypt(nonce, data, _associated(name))
        self.redactor.add(secret)
        host = urlsplit(url).hostname or ""
        audit = self._event("webhooks.create", name, {"project": owner, "events": list(wanted), "host": host})
        return self.store.create_webhook(
            NewWebhook(name, owner, url, wanted, ciphertext, key.key_id, max_attempts, audit.timestamp, self.actor), audit
        )

    def list_webhooks(self, *, project: str | None = None, projects: frozenset[str] | None = None) -> list[Webhook]:
        """Webhooks by name; ``project`` filters to one, ``projects`` to those a caller may see (None: all)."""
        return self.store.list_webhooks(project=project, projects=projects)

    def get_webhook(self, name: str) -> Webhook:
        """One webhook (never its secret).

        Raises:
            NotFoundError: no webhook of that name.
        """
        return self.store.get_webhook(check_webhook_name(name))

    def delete_webhook(self, name: str) -> None:
        """Delete a webhook with its delivery log.

        Raises:
            NotFoundError: no webhook of that name.
        """
        self.store.delete_webhook(check_webhook_name(name), self._event("webhooks.delete", name))

    def list_deliveries(self, name: str, *, status: str | None = None, max_results: int = 100) -> list[Delivery]:
        """A webhook's deliveries, newest first, each with its attempts.

        Raises:
            NotFoundError: no webhook of that name.
            InvalidInputError: an unknown status.
        """
        if status not in (None, "pending", "succeeded", "failed"):
            raise InvalidInputError("status is pending, succeeded or failed", field="status")
        self.get_webhook(name)
        return self.store.list_deliveries(name, status=status, max_results=max(1, min(int(max_results), 10_000)))

    def redeliver(self, name: str, delivery_id: str) -> Delivery:
        """Send a delivery again now (same id and body), with a fresh budget of attempts.

        Raises:
            NotFoundError: no such webhook, or the delivery is not one of its.
        """
        hook = self.get_webhook(name)
        found = self._delivery_of(hook, delivery_id)
        at = now_ms()
        reset = self.store.reset_delivery(
            found.delivery_id, remaining=hook.max_attempts, now=at,
            audit=self._event("webhooks.redeliver", name, {"delivery_id": found.delivery_id}),
        )
        return self._attempt_now(hook, reset)

    def test_webhook(self, name: str) -> Delivery:
        """Send a ``ping`` event now and return its delivery (retried later like any other when it fails).

        Raises:
            NotFoundError: no webhook of that name.
        """
        hook = self.get_webhook(name)
        at = now_ms()
        delivery_id = uuid.uuid4().hex
        body = _body({
            "id": delivery_id, "event": PING, "created_at": _iso(at), "project": hook.project, "actor": self.actor,
            "webhook": hook.name, "events": list(hook.events),
        })
        self.store.record(self._event("webhooks.test", name, {"delivery_id": delivery_id}))
        self.store.enqueue([NewDelivery(delivery_id, hook.name, PING, None, body, hook.max_attempts, at)], None)
        return self._attempt_now(hook, self.store.get_delivery(delivery_id))

    def _delivery_of(self, hook: Webhook, delivery_id: str) -> Delivery:
        if not isinstance(delivery_id, str) or not re.fullmatch(r"[0-9a-f]{32}", delivery_id):
            raise InvalidInputError("a delivery id is 32 lowercase hex characters", field="delivery_id")
        found = self.store.get_delivery(delivery_id)
        if found.webhook != hook.name:
            raise NotFoundError(f"delivery {delivery_id} not found for webhook {hook.name}", field="delivery_id")
        return found

    def _attempt_now(self, hook: Webhook, delivery: Delivery) -> Delivery:
        with self._client() as client:
            return self._send(client, hook, self._secret(hook.name), delivery)

    # -- delivery --------------------------------------------------------------------------

    def deliver(self, *, now: int | None = None, max_deliveries: int = 100) -> DeliveryRound:
        """One round of the worker: read new audit entries into the outbox, then POST every
        delivery that is due (at most ``max_deliveries``), under the delivery lease.

        Args:
            now: the round's clock in ms (tests move it to reach a retry); default: now.
        """
        at = now_ms() if now is None else now
        if not self.store.has_webhooks():
            # nothing to deliver to: no lease, no cursor, no write (a server looks every 2 s)
            return DeliveryRound(leased=True)
        ttl_ms = int(max(60.0, self.timeout_s * 3) * 1000)
        if not self.store.acquire_lease(_LEASE, self.holder, at, ttl_ms):
            return DeliveryRound(leased=False)
        try:
            enqueued = self._scan(at)
            due = self.store.due_deliveries(at, max_deliveries)
            attempted = succeeded = failed = 0
            hooks: dict[str, tuple[Webhook, str] | None] = {}
            with self._client() as client:
                for delivery in due:
                    if delivery.webhook not in hooks:
                        hooks[delivery.webhook] = self._hook_and_secret(delivery.webhook)
                    found = hooks[delivery.webhook]
                    if found is None:
                        continue  # deleted meanwhile (its deliveries go with it), or its secret is unreadable
                    done = self._send(client, found[0], found[1], delivery, now=None if now is None else at)
                    attempted += 1
                    succeeded += done.status == "succeeded"
                    failed += done.status == "failed"
                    # a slow receiver must not let the lease lapse under us
                    if not self.store.acquire_lease(_LEASE, self.holder, now_ms() if now is None else at, ttl_ms):
                        break
            return DeliveryRound(True, enqueued, attempted, succeeded, failed, self.store.count_pending())
        finally:
            self.store.release_lease(_LEASE, self.holder)

    def _hook_and_secret(self, name: str) -> tuple[Webhook, str] | None:
        try:
            return self.store.get_webhook(name), self._secret(name)
        except NotFoundError:
            return None
        except IntegrityError as exc:
            log.warning("webhook %s: secret unreadable, deliveries wait: %s", name, exc.message)
            return None

    def _scan(self, at: int) -> int:
        """Turn audit entries after the cursor into deliveries; returns how many are new."""
        cursor = self.store.scan_start()
        total = 0
        while True:
            records, reached = self.store.audit_after(cursor, _SCAN_PAGE)
            news: list[NewDelivery] = []
            for record in records:
                occurrence = event_of(record.action, record.target, record.details)
                if occurrence is None:
                    continue
                project = self.store.project_of(occurrence.kind, occurrence.subject)
                if project is None:
                    continue  # deleted since: nobody to tell
                for hook in self.store.subscribers(project, occurrence.event, record.entry_id):
                    delivery_id = uuid.uuid4().hex
                    body = _body(_payload(delivery_id, project, occurrence, record))
                    news.append(NewDelivery(delivery_id, hook.name, occurrence.event, record.entry_id, body, hook.max_attempts, at))
            if news or reached != cursor:
                total += self.store.enqueue(news, reached)
            if len(records) < _SCAN_PAGE or reached == cursor:
                return total
            cursor = reached

    def _secret(self, name: str) -> str:
        ciphertext, key_id = self.store.get_secret(name)
        key = self._key()
        if key_id != key.key_id:
            raise IntegrityError(f"webhook {name}'s secret was encrypted with master key {key_id}, not the configured {key.key_id}")
        try:
            secret = AESGCM(key.key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], _associated(name)).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise IntegrityError(f"webhook {name}'s secret does not decrypt: its stored ciphertext was altered") from exc
        self.redactor.add(secret)
        return secret

    def _client(self) -> httpx.Client:
        transport = self.transport
        if self.public_only:
            from steward._egress import PublicOnlyTransport

            transport = PublicOnlyTransport(transport)
        return httpx.Client(timeout=self.timeout_s, transport=transport, follow_redirects=False)

    def _send(self, client: httpx.Client, hook: Webhook, secret: str, delivery: Delivery, *, now: int | None = None) -> Delivery:
        """One POST of ``delivery``, recorded; returns the delivery as it now stands."""
        body = delivery.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"steward-webhooks/{__version__}",
            "X-Steward-Event": delivery.event,
            "X-Steward-Delivery": delivery.delivery_id,
            "X-Steward-Attempt": str(delivery.attempts + 1),
            SIGNATURE_HEADER: sign(secret, body),
        }
        started = now_ms() if now is None else now
        clock = time.monotonic()
        code: int | None = None
        error: str | None = None
        try:
            # streamed and never read: a receiver cannot make us hold a large answer
            with client.stream("POST", hook.url, content=body, headers=headers) as answer:
                code = answer.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout_s:g} s"
        except httpx.HTTPError as exc:
            # the URL may carry a token: never in the stored error
            error = f"{type(exc).__name__}: {str(exc).replace(hook.url, '<url>')}"[:300]
        duration = int((time.monotonic() - clock) * 1000)
        attempt = Attempt(delivery.attempts + 1, started, duration, code, error)
        remaining = delivery.remaining - 1
        if error is None:
            status, next_at = "succeeded", started
        elif remaining <= 0:
            status, next_at = "failed", started
        else:
            status, next_at = "pending", started + min(self.backoff_ms * 2 ** delivery.attempts, _MAX_BACKOFF_MS)
        if error is not None:
            log.info("webhook %s: delivery %s attempt %d: %s (%s)", hook.name, delivery.delivery_id, attempt.attempt, error, status)
        return self.store.record_attempt(
            delivery.delivery_id, attempt, status=status, remaining=remaining, next_attempt_at=next_at, now=started
        )


def _payload(delivery_id: str, project: str, occurrence: Occurrence, record: AuditEntry) -> dict[str, object]:
    document: dict[str, object] = {
        "id": delivery_id,
        "event": occurrence.event,
        "created_at": _iso(record.timestamp),
        "project": project,
        "actor": record.actor,
        "audit": {"entry_id": record.entry_id, "action": record.action, "target": record.target},
        "details": record.details,
    }
    if occurrence.kind == "model":
        document["model"] = {"name": occurrence.subject, "version": occurrence.version, "alias": occurrence.alias}
    else:
        document["deployment"] = {"name": occurrence.subject}
    return document
