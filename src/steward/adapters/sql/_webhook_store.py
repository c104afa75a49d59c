"""Webhooks on the metadata store: subscriptions, the delivery outbox and attempts, the
worker's audit cursor and lease (:class:`~steward.webhooks.WebhookStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy import exc as sa_exc

from steward.core.entities import AuditEntry
from steward.core.permissions import ObjectKind
from steward.errors import AlreadyExistsError, NotFoundError
from steward.tracking._ports import AuditEvent
from steward.webhooks._ports import Attempt, Delivery, NewDelivery, NewWebhook, Webhook

from ._audit import append_audit
from ._leases import acquire_lease, release_lease
from ._projects import project_of
from ._store import SqlStore
from ._tables import audit_log
from ._tables_webhooks import (
    webhook_attempts,
    webhook_cursor,
    webhook_deliveries,
    webhook_leases,
    webhooks,
)

__all__ = ["SqlWebhookStore"]

_W, _D, _A = webhooks.c, webhook_deliveries.c, webhook_attempts.c
_CURSOR = "audit"
# the audit actions that can be events (see steward.webhooks._events): read no others
_EVENT_PREFIXES = ("models.", "model_version.", "deployments.")


def _webhook(row: Any) -> Webhook:  # Any: a SQLAlchemy row
    return Webhook(
        str(row.name), str(row.project), str(row.url), tuple(str(e) for e in row.events), int(row.max_attempts),
        int(row.since_entry), int(row.created_at), str(row.created_by),
    )


def _delivery(row: Any, log: tuple[Attempt, ...] = ()) -> Delivery:  # Any: a SQLAlchemy row
    return Delivery(
        str(row.delivery_id), str(row.webhook), str(row.event), None if row.entry_id is None else int(row.entry_id),
        str(row.body), str(row.status), int(row.attempts), int(row.remaining), int(row.next_attempt_at),
        None if row.last_status_code is None else int(row.last_status_code), row.last_error,
        int(row.created_at), int(row.updated_at), log,
    )


def _attempt(row: Any) -> Attempt:  # Any: a SQLAlchemy row
    return Attempt(
        int(row.attempt), int(row.started_at), int(row.duration_ms),
        None if row.status_code is None else int(row.status_code), row.error,
    )


class SqlWebhookStore:
    """Webhooks beside the other metadata, sharing the store's engine and transactions.

    Args:
        store: the metadata store.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- subscriptions ---------------------------------------------------------------------

    def create_webhook(self, new: NewWebhook, audit: AuditEvent) -> Webhook:
        try:
            with self._store.write() as conn:
                if conn.execute(select(_W.name).where(_W.name == new.name)).first() is not None:
                    raise AlreadyExistsError(f"webhook {new.name!r} already exists", field="name")
                entry = append_audit(conn, audit)
                conn.execute(
                    insert(webhooks).values(
                        name=new.name, project=new.project, url=new.url, events=list(new.events), ciphertext=new.ciphertext,
                        key_id=new.key_id, max_attempts=new.max_attempts, since_entry=entry, created_at=new.created_at,
                        created_by=new.created_by,
                    )
                )
        except sa_exc.IntegrityError as exc:  # lost a race with another process creating the same name
            raise AlreadyExistsError(f"webhook {new.name!r} already exists", field="name") from exc
        return self.get_webhook(new.name)

    def get_webhook(self, name: str) -> Webhook:
        with self._store.read() as conn:
            row = conn.execute(select(*[c for c in webhooks.c if c.name != "ciphertext"]).where(_W.name == name)).first()
        if row is None:
            raise NotFoundError(f"webhook {name[:63]!r} not found", field="name")
        return _webhook(row)

    def get_secret(self, name: str) -> tuple[bytes, str]:
        with self._store.read() as conn:
            row = conn.execute(select(_W.ciphertext, _W.key_id).where(_W.name == name)).first()
        if row is None:
            raise NotFoundError(f"webhook {name[:63]!r} not found", field="name")
        return bytes(row.ciphertext), str(row.key_id)

    def list_webhooks(self, *, project: str | None, projects: frozenset[str] | None) -> list[Webhook]:
        query = select(*[c for c in webhooks.c if c.name != "ciphertext"]).order_by(_W.name)
        if project is not None:
            query = query.where(_W.project == project)
        if projects is not None:  # only the projects the caller may see
            query = query.where(_W.project.in_(sorted(projects)))
        with self._store.read() as conn:
            return [_webhook(r) for r in conn.execute(query)]

    def delete_webhook(self, name: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            if conn.execute(select(_W.name).where(_W.name == name).with_for_update()).first() is None:
                raise NotFoundError(f"webhook {name[:63]!r} not found", field="name")
            ids = select(_D.delivery_id).where(_D.webhook == name).scalar_subquery()
            conn.execute(delete(webhook_attempts).where(_A.delivery_id.in_(ids)))
            conn.execute(delete(webhook_deliveries).where(_D.webhook == name))
            conn.execute(delete(webhooks).where(_W.name == name))
            append_audit(conn, audit)

    def record(self, audit: AuditEvent) -> int:
        with self._store.write() as conn:
            return append_audit(conn, audit)

    def has_webhooks(self) -> bool:
        with self._store.read() as conn:
            return conn.execute(select(_W.name).limit(1)).first() is not None

    # -- the worker ------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, now: int, ttl_ms: int) -> bool:
        return acquire_lease(self._store, webhook_leases, webhook_leases.c.name, name, holder, now, ttl_ms)

    def release_lease(self, name: str, holder: str) -> None:
        release_lease(self._store, webhook_leases, webhook_leases.c.name, name, holder)

    def scan_start(self) -> int:
        with self._store.read() as conn:
            stored = conn.execute(select(webhook_cursor.c.entry_id).where(webhook_cursor.c.name == _CURSOR)).scalar()
            if stored is not None:
                return int(stored)
            # first round: from the oldest subscription on (history before it is nobody's), else the head
            oldest = conn.execute(select(func.min(_W.since_entry))).scalar()
            if oldest is not None:
                return int(oldest)
            head = conn.execute(select(func.max(audit_log.c.entry_id))).scalar()
            return 0 if head is None else int(head)

    def audit_after(self, after: int, limit: int) -> tuple[list[AuditEntry], int]:
        a = audit_log.c
        with self._store.read() as conn:
            # the head first: every entry up to it is committed (appends are serialised), so
            # the cursor may move to it even when none of those entries is an event
            head = conn.execute(select(func.max(a.entry_id))).scalar()
            reached = after if head is None else max(after, int(head))
            rows = conn.execute(
                select(a.entry_id, a.timestamp, a.actor, a.action, a.target, a.details)
                .where(a.entry_id > after, a.entry_id <= reached, or_(*[a.action.startswith(p) for p in _EVENT_PREFIXES]))
                .order_by(a.entry_id)
                .limit(limit)
            ).all()
        records = [
            AuditEntry(
                int(r.entry_id), int(r.timestamp), str(r.actor), str(r.action), str(r.target),
                r.details if isinstance(r.details, dict) else {},
            )
            for r in rows
        ]
        if len(records) == limit:
            reached = records[-1].entry_id  # a full page: the next one starts after it
        return records, reached

    def project_of(self, kind: str, name: str) -> str | None:
        return project_of(self._store, ObjectKind.DEPLOYMENT if kind == "deployment" else ObjectKind.MODEL, name)

    def subscribers(self, project: str, event: str, entry_id: int) -> list[Webhook]:
        query = select(*[c for c in webhooks.c if c.name != "ciphertext"]).where(_W.project == project, _W.since_entry < entry_id)
        with self._store.read() as conn:
            return [h for h in (_webhook(r) for r in conn.execute(query.order_by(_W.name))) if event in h.events]

    def enqueue(self, deliveries: Sequence[NewDelivery], cursor: int | None) -> int:
        added = 0
        with self._store.write() as conn:
            for d in deliveries:
                values = {
                    "delivery_id": d.delivery_id, "webhook": d.webhook, "event": d.event, "entry_id": d.entry_id, "body": d.body,
                    "status": "pending", "attempts": 0, "remaining": d.remaining, "next_attempt_at": d.created_at,
                    "last_status_code": None, "last_error": None, "created_at": d.created_at, "updated_at": d.created_at,
                }
                stmt = self._store._upsert(webhook_deliveries).values(values)
                # one delivery per (webhook, audit entry): a second scan of the same entry adds nothing
                inserted = conn.execute(
                    stmt.on_conflict_do_nothing(index_elements=["webhook", "entry_id"]).returning(_D.delivery_id)
                    if d.entry_id is not None else stmt.returning(_D.delivery_id)
                )
                added += inserted.first() is not None
            if cursor is not None:
                stmt = self._store._upsert(webhook_cursor).values(name=_CURSOR, entry_id=cursor)
                conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"entry_id": cursor}))
        return added

    def due_deliveries(self, now: int, limit: int) -> list[Delivery]:
        query = select(webhook_deliveries).where(_D.status == "pending", _D.next_attempt_at <= now)
        with self._store.read() as conn:
            return [_delivery(r) for r in conn.execute(query.order_by(_D.next_attempt_at, _D.created_at).limit(limit))]

    def count_pending(self) -> int:
        with self._store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(webhook_deliveries).where(_D.status == "pending")).scalar_one())

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, remaining: int, next_attempt_at: int, now: int
    ) -> Delivery:
        with self._store.write() as conn:
            conn.execute(
                insert(webhook_attempts).values(
                    delivery_id=delivery_id, attempt=attempt.attempt, started_at=attempt.started_at,
                    duration_ms=attempt.duration_ms, status_code=attempt.status_code, error=attempt.error,
                )
            )
            conn.execute(
                update(webhook_deliveries).where(_D.delivery_id == delivery_id).values(
                    status=status, attempts=attempt.attempt, remaining=max(0, remaining), next_attempt_at=next_attempt_at,
                    last_status_code=attempt.status_code, last_error=attempt.error, updated_at=now,
                )
            )
        return self.get_delivery(delivery_id)

    def get_delivery(self, delivery_id: str) -> Delivery:
        with self._store.read() as conn:
            row = conn.execute(select(webhook_deliveries).where(_D.delivery_id == delivery_id)).first()
            if row is None:
                raise NotFoundError(f"delivery {delivery_id[:32]!r} not found", field="delivery_id")
            log = tuple(_attempt(a) for a in conn.execute(select(webhook_attempts).where(_A.delivery_id == delivery_id).order_by(_A.attempt)))
        return _delivery(row, log)

    def list_deliveries(self, webhook: str, *, status: str | None, max_results: int) -> list[Delivery]:
        query = select(webhook_deliveries).where(_D.webhook == webhook)
        if status is not None:
            query = query.where(_D.status == status)
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(_D.created_at.desc(), _D.entry_id.desc()).limit(max_results)).all()
            ids = [str(r.delivery_id) for r in rows]
            logs: dict[str, list[Attempt]] = {}
            if ids:
                for a in conn.execute(select(webhook_attempts).where(_A.delivery_id.in_(ids)).order_by(_A.attempt)):
                    logs.setdefault(str(a.delivery_id), []).append(_attempt(a))
        return [_delivery(r, tuple(logs.get(str(r.delivery_id), ()))) for r in rows]

    def reset_delivery(self, delivery_id: str, *, remaining: int, now: int, audit: AuditEvent) -> Delivery:
        with self._store.write() as conn:
            done = conn.execute(
                update(webhook_deliveries).where(_D.delivery_id == delivery_id).values(
                    status="pending", remaining=remaining, next_attempt_at=now, updated_at=now
                )
            )
            if done.rowcount == 0:
                raise NotFoundError(f"delivery {delivery_id[:32]!r} not found", field="delivery_id")
            append_audit(conn, audit)
        return self.get_delivery(delivery_id)
