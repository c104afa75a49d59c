"""What the webhooks stage needs from storage (implemented in adapters/sql/_webhook_store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from steward.core.entities import AuditEntry
from steward.tracking import AuditEvent

__all__ = [
    "Attempt",
    "Delivery",
    "NewDelivery",
    "NewWebhook",
    "Webhook",
    "WebhookStore",
]


@dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription: POST these events of this project to this URL, signed with its secret.

    The secret is never part of it: only the store's ciphertext holds it.
    """

    name: str
    project: str
    url: str
    events: tuple[str, ...]
    max_attempts: int
    since_entry: int
    created_at: int
    created_by: str

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "project": self.project, "url": self.url, "events": list(self.events),
            "max_attempts": self.max_attempts, "since_entry": self.since_entry,
            "created_at": self.created_at, "created_by": self.created_by, "has_secret": True,
        }


@dataclass(frozen=True, slots=True)
class NewWebhook:
    name: str
    project: str
    url: str
    events: tuple[str, ...]
    ciphertext: bytes
    key_id: str
    max_attempts: int
    created_at: int
    created_by: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of a delivery: when, how long, the answer's status (None: no answer), the error."""

    attempt: int
    started_at: int
    duration_ms: int
    status_code: int | None
    error: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "attempt": self.attempt, "started_at": self.started_at, "duration_ms": self.duration_ms,
            "status_code": self.status_code, "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one webhook: the signed body, its state and every attempt so far."""

    delivery_id: str
    webhook: str
    event: str
    entry_id: int | None
    body: str
    status: str  # pending | succeeded | failed
    attempts: int
    remaining: int
    next_attempt_at: int
    last_status_code: int | None
    last_error: str | None
    created_at: int
    updated_at: int
    log: tuple[Attempt, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        import json

        return {
            "delivery_id": self.delivery_id, "webhook": self.webhook, "event": self.event, "entry_id": self.entry_id,
            "status": self.status, "attempts": self.attempts, "remaining": self.remaining,
            "next_attempt_at": self.next_attempt_at, "last_status_code": self.last_status_code,
            "last_error": self.last_error, "created_at": self.created_at, "updated_at": self.updated_at,
            "payload": json.loads(self.body), "log": [a.to_dict() for a in self.log],
        }


@dataclass(frozen=True, slots=True)
class NewDelivery:
    delivery_id: str
    webhook: str
    event: str
    entry_id: int | None
    body: str
    remaining: int
    created_at: int


class WebhookStore(Protocol):
    """Subscriptions, the delivery outbox and the worker's cursor; mutations of subscriptions
    write their audit event in the same transaction."""

    def create_webhook(self, new: NewWebhook, audit: AuditEvent) -> Webhook:
        """Store it; ``since_entry`` is the id of ``audit``'s entry. ConflictError on a taken name."""
        ...

    def get_webhook(self, name: str) -> Webhook: ...
    def get_secret(self, name: str) -> tuple[bytes, str]:
        """(ciphertext, key id) of a webhook's secret."""
        ...

    def list_webhooks(self, *, project: str | None, projects: frozenset[str] | None) -> list[Webhook]: ...
    def delete_webhook(self, name: str, audit: AuditEvent) -> None:
        """Delete it with its deliveries and their attempts."""
        ...

    def record(self, audit: AuditEvent) -> int: ...
    def has_webhooks(self) -> bool: ...

    # -- the worker ------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool: ...
    def release_lease(self, name: str, holder: str) -> None: ...
    def scan_start(self) -> int:
        """The cursor: the last audit entry scanned (first use: just before the oldest webhook's creation, or the head)."""
        ...

    def audit_after(self, after: int, limit: int) -> tuple[list[AuditEntry], int]:
        """Registry and deployment entries after ``after`` (at most ``limit``), and the entry id
        the scan reached (the cursor to store when they are handled)."""
        ...

    def project_of(self, kind: str, name: str) -> str | None:
        """The project of a registered model (``kind="model"``) or a deployment."""
        ...

    def subscribers(self, project: str, event: str, entry_id: int) -> list[Webhook]:
        """Webhooks of ``project`` receiving ``event`` that existed before ``entry_id``."""
        ...

    def enqueue(self, deliveries: Sequence[NewDelivery], cursor: int | None) -> int:
        """Insert the deliveries (one per webhook and audit entry: repeats are skipped) and
        move the cursor, in one transaction. Returns how many were new."""
        ...

    def due_deliveries(self, now: int, limit: int) -> list[Delivery]: ...
    def count_pending(self) -> int: ...
    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, remaining: int, next_attempt_at: int, now: int
    ) -> Delivery: ...
    def get_delivery(self, delivery_id: str) -> Delivery: ...
    def list_deliveries(self, webhook: str, *, status: str | None, max_results: int) -> list[Delivery]: ...
    def reset_delivery(self, delivery_id: str, *, remaining: int, now: int, audit: AuditEvent) -> Delivery: ...
